def outer(start):
    count = 0
    def inc():
        nonlocal count, start
        count += 1
        start += 10
        return count
    inc()
    inc()
    total = count + start
    return total


def main():
    r = outer(5)
    print(r)


main()
