class Oops(Exception):
    pass


def risky(n):
    if n % 3 == 0:
        raise Oops(n)
    return n


def careful(n):
    try:
        v = risky(n)
    except Oops as e:
        v = -1
    finally:
        n += 1
    return v


def nested():
    try:
        try:
            1 / 0
        except ZeroDivisionError:
            raise ValueError("x")
    except ValueError:
        pass
    try:
        {}["k"]
    except KeyError: pass


out = [careful(i) for i in range(5)]
nested()
print(out)
