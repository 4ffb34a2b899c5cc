# A window long enough that a run to a line whose condition never holds
# takes a while to scan (dap/exception_test.go: pause).


def twice(i):
    return i * 2


def main():
    total = 0
    for i in range(150):
        total += twice(i)
    return total


main()
