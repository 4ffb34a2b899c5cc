# The run-to-line benchmark's program (pyext/runto_bench_test.go): runs to a
# line 10,000 line events away, in another frame, in the same frame, with a
# condition that holds at the last of 2,500 runs, and through 1,000 calls.
# Cheap lines, so that gdb record full records it in a few minutes (its line
# numbers are the benchmark's: keep them).


def work(i):
    return i + 1


def spin(n):
    a = b = c = 0
    for i in range(n):
        a = i
        b = a
        c = b
    return c


def calls(n):
    t = 0
    for i in range(n):
        t = work(i)
    return t


def main():
    x = spin(2500)
    y = work(x)
    z = calls(1000)
    return x, y, z


main()
