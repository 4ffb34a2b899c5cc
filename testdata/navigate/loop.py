class Acc:
    def __init__(self):
        self.total = 0


acc = Acc()
for i in range(50):
    acc.total += i
    if i % 7 == 0:
        acc.last = i
n = 3
while n: n -= 1
print(acc.total)
