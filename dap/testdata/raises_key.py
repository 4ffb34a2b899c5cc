# A program that ends with a KeyError, whose message is its key's repr
# (dap/exception_test.go).


def price(prices, item):
    return prices[item]


def main():
    prices = {"tea": 3, "cake": 4}
    return [price(prices, item) for item in ("tea", "coffee")]


main()
