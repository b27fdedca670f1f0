from swarm import checkpoint
# A chain of 52 distinct functions fn01 -> fn02 -> ... -> fn52, each with its
# own locals, checkpointing after (odd ones also before) the nested call; the bottom one
# checkpoints several times.

path = []


def fn01(x):
    mine = x * 2 + 1
    checkpoint()
    below = fn02(mine % 1000)
    checkpoint()
    return below + [mine]


def fn02(x):
    mine = x * 3 + 2
    below = fn03(mine % 1000)
    checkpoint()
    return below + [mine]


def fn03(x):
    mine = x * 4 + 3
    checkpoint()
    below = fn04(mine % 1000)
    checkpoint()
    return below + [mine]


def fn04(x):
    mine = x * 5 + 4
    below = fn05(mine % 1000)
    checkpoint()
    return below + [mine]


def fn05(x):
    mine = x * 6 + 5
    checkpoint()
    below = fn06(mine % 1000)
    checkpoint()
    return below + [mine]


def fn06(x):
    mine = x * 7 + 6
    below = fn07(mine % 1000)
    checkpoint()
    return below + [mine]


def fn07(x):
    mine = x * 1 + 7
    checkpoint()
    below = fn08(mine % 1000)
    checkpoint()
    return below + [mine]


def fn08(x):
    mine = x * 2 + 8
    below = fn09(mine % 1000)
    checkpoint()
    return below + [mine]


def fn09(x):
    mine = x * 3 + 9
    checkpoint()
    below = fn10(mine % 1000)
    checkpoint()
    return below + [mine]


def fn10(x):
    mine = x * 4 + 10
    below = fn11(mine % 1000)
    checkpoint()
    path.append(10)
    return below + [mine]


def fn11(x):
    mine = x * 5 + 11
    checkpoint()
    below = fn12(mine % 1000)
    checkpoint()
    return below + [mine]


def fn12(x):
    mine = x * 6 + 12
    below = fn13(mine % 1000)
    checkpoint()
    return below + [mine]


def fn13(x):
    mine = x * 7 + 13
    checkpoint()
    below = fn14(mine % 1000)
    checkpoint()
    return below + [mine]


def fn14(x):
    mine = x * 1 + 14
    below = fn15(mine % 1000)
    checkpoint()
    return below + [mine]


def fn15(x):
    mine = x * 2 + 15
    checkpoint()
    below = fn16(mine % 1000)
    checkpoint()
    return below + [mine]


def fn16(x):
    mine = x * 3 + 16
    below = fn17(mine % 1000)
    checkpoint()
    return below + [mine]


def fn17(x):
    mine = x * 4 + 17
    checkpoint()
    below = fn18(mine % 1000)
    checkpoint()
    return below + [mine]


def fn18(x):
    mine = x * 5 + 18
    below = fn19(mine % 1000)
    checkpoint()
    return below + [mine]


def fn19(x):
    mine = x * 6 + 19
    checkpoint()
    below = fn20(mine % 1000)
    checkpoint()
    return below + [mine]


def fn20(x):
    mine = x * 7 + 20
    below = fn21(mine % 1000)
    checkpoint()
    path.append(20)
    return below + [mine]


def fn21(x):
    mine = x * 1 + 21
    checkpoint()
    below = fn22(mine % 1000)
    checkpoint()
    return below + [mine]


def fn22(x):
    mine = x * 2 + 22
    below = fn23(mine % 1000)
    checkpoint()
    return below + [mine]


def fn23(x):
    mine = x * 3 + 23
    checkpoint()
    below = fn24(mine % 1000)
    checkpoint()
    return below + [mine]


def fn24(x):
    mine = x * 4 + 24
    below = fn25(mine % 1000)
    checkpoint()
    return below + [mine]


def fn25(x):
    mine = x * 5 + 25
    checkpoint()
    below = fn26(mine % 1000)
    checkpoint()
    return below + [mine]


def fn26(x):
    mine = x * 6 + 26
    below = fn27(mine % 1000)
    checkpoint()
    return below + [mine]


def fn27(x):
    mine = x * 7 + 27
    checkpoint()
    below = fn28(mine % 1000)
    checkpoint()
    return below + [mine]


def fn28(x):
    mine = x * 1 + 28
    below = fn29(mine % 1000)
    checkpoint()
    return below + [mine]


def fn29(x):
    mine = x * 2 + 29
    checkpoint()
    below = fn30(mine % 1000)
    checkpoint()
    return below + [mine]


def fn30(x):
    mine = x * 3 + 30
    below = fn31(mine % 1000)
    checkpoint()
    path.append(30)
    return below + [mine]


def fn31(x):
    mine = x * 4 + 31
    checkpoint()
    below = fn32(mine % 1000)
    checkpoint()
    return below + [mine]


def fn32(x):
    mine = x * 5 + 32
    below = fn33(mine % 1000)
    checkpoint()
    return below + [mine]


def fn33(x):
    mine = x * 6 + 33
    checkpoint()
    below = fn34(mine % 1000)
    checkpoint()
    return below + [mine]


def fn34(x):
    mine = x * 7 + 34
    below = fn35(mine % 1000)
    checkpoint()
    return below + [mine]


def fn35(x):
    mine = x * 1 + 35
    checkpoint()
    below = fn36(mine % 1000)
    checkpoint()
    return below + [mine]


def fn36(x):
    mine = x * 2 + 36
    below = fn37(mine % 1000)
    checkpoint()
    return below + [mine]


def fn37(x):
    mine = x * 3 + 37
    checkpoint()
    below = fn38(mine % 1000)
    checkpoint()
    return below + [mine]


def fn38(x):
    mine = x * 4 + 38
    below = fn39(mine % 1000)
    checkpoint()
    return below + [mine]


def fn39(x):
    mine = x * 5 + 39
    checkpoint()
    below = fn40(mine % 1000)
    checkpoint()
    return below + [mine]


def fn40(x):
    mine = x * 6 + 40
    below = fn41(mine % 1000)
    checkpoint()
    path.append(40)
    return below + [mine]


def fn41(x):
    mine = x * 7 + 41
    checkpoint()
    below = fn42(mine % 1000)
    checkpoint()
    return below + [mine]


def fn42(x):
    mine = x * 1 + 42
    below = fn43(mine % 1000)
    checkpoint()
    return below + [mine]


def fn43(x):
    mine = x * 2 + 43
    checkpoint()
    below = fn44(mine % 1000)
    checkpoint()
    return below + [mine]


def fn44(x):
    mine = x * 3 + 44
    below = fn45(mine % 1000)
    checkpoint()
    return below + [mine]


def fn45(x):
    mine = x * 4 + 45
    checkpoint()
    below = fn46(mine % 1000)
    checkpoint()
    return below + [mine]


def fn46(x):
    mine = x * 5 + 46
    below = fn47(mine % 1000)
    checkpoint()
    return below + [mine]


def fn47(x):
    mine = x * 6 + 47
    checkpoint()
    below = fn48(mine % 1000)
    checkpoint()
    return below + [mine]


def fn48(x):
    mine = x * 7 + 48
    below = fn49(mine % 1000)
    checkpoint()
    return below + [mine]


def fn49(x):
    mine = x * 1 + 49
    checkpoint()
    below = fn50(mine % 1000)
    checkpoint()
    return below + [mine]


def fn50(x):
    mine = x * 2 + 50
    below = fn51(mine % 1000)
    checkpoint()
    path.append(50)
    return below + [mine]


def fn51(x):
    mine = x * 3 + 51
    checkpoint()
    below = fn52(mine % 1000)
    checkpoint()
    return below + [mine]


def fn52(x):
    mine = x * 4 + 52
    path.append(52)
    for k in range(3):
        checkpoint()
        mine += k
    return [mine]


res = fn01(3)
print('len', len(res))
print('res', res)
checkpoint()
print('path', path)
RESULT = (res, path)
