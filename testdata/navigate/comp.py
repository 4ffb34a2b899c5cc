def main():
    xs = [x * 2 for x in range(5)]
    d = {k: k * k
         for k in xs if k > 2}
    s = sorted(xs, key=lambda v: -v)
    m = list(map(lambda v: v + 1, xs))
    f = (lambda a,
         b: a * b)(3, 4)
    t = 1 if f > 10 else 0
    u = t and xs or d
    return xs, d, s, m, f, t, u


print(main())
