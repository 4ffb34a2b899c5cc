def average(values):
    total = 0
    for v in values:
        if v > 0 and v < 100:
            total += v
    return total / len(values)


def main():
    data = [3, 5, 8, 13, 21, 34, 55, 89]
    odd = [x * x for x in data if x % 2]
    mean = average(data)
    text = " ".join(str(x) for x in odd).title().strip()
    return mean, text


main()
