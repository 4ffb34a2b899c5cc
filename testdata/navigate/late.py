def warm(i):
    return i + 1


def target(n):
    total = 0
    for i in range(n):
        total += warm(i)
    return total


s = 0
for i in range(20000):
    s = warm(s)
print(target(5))
