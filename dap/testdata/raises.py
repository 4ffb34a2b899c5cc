# A program that ends with an uncaught exception (dap/exception_test.go).


def ratio(a, b):
    return a / b


def main():
    out = []
    for b in (4, 2, 0):
        out.append(ratio(8, b))
    return out


main()
