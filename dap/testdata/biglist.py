# The list is made before the recorded window (record full records about
# 16,000 instructions a second): main receives it.
XS = list(range(100000))


def main(xs):
    total = 0
    total += xs[-1]
    return total


main(XS)
