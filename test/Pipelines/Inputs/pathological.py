"""Steps that used to make --mpt-lower-to-cpu slow (issue 12, defect 9).

  chain N   N chained elementwise ops on one tensor
  nest D    a tensor carried through D nested scf.for loops
  check N   the loss-scaling check of N gradients (mpt.unscale_check),
            whose lowering threads its Inf/NaN flag and sum of squares
            through N reductions
"""

import sys


def chain(n):
    lines = ["func.func @chain(%a: tensor<16xf32>) -> tensor<16xf32> {"]
    prev = "%a"
    for i in range(n):
        op = ("arith.addf", "arith.mulf", "arith.subf")[i % 3]
        lines.append("  %%v%d = %s %s, %%a : tensor<16xf32>" % (i, op, prev))
        prev = "%%v%d" % i
    lines += ["  return %s : tensor<16xf32>" % prev, "}"]
    return lines


def nest(depth):
    lines = ["func.func @nest(%a: tensor<16xf32>, %n: index) -> tensor<16xf32> {",
             "  %c0 = arith.constant 0 : index",
             "  %c1 = arith.constant 1 : index"]
    carried = "%a"
    for i in range(depth):
        lines.append("%s%%r%d = scf.for %%i%d = %%c0 to %%n step %%c1 "
                     "iter_args(%%t%d = %s) -> (tensor<16xf32>) {"
                     % ("  " * (i + 1), i, i, i, carried))
        carried = "%%t%d" % i
    pad = "  " * (depth + 1)
    lines.append("%s%%x = arith.addf %s, %s : tensor<16xf32>"
                 % (pad, carried, carried))
    lines.append("%sscf.yield %%x : tensor<16xf32>" % pad)
    for i in reversed(range(depth)):
        lines.append("  " * (i + 1) + "}")
        if i > 0:
            lines.append("  " * i + "  scf.yield %%r%d : tensor<16xf32>" % i)
    lines += ["  return %r0 : tensor<16xf32>", "}"]
    return lines


def check(n):
    grads = ["%%g%d" % i for i in range(n)]
    types = ", ".join(["tensor<4xf32>"] * n)
    lines = ["func.func @check(%%s: tensor<f32>, %s) -> (%s, tensor<i1>, "
             "tensor<f32>) {" % (", ".join(g + ": tensor<4xf32>"
                                           for g in grads), types)]
    outs = ["%%u%d" % i for i in range(n)]
    lines.append("  %s, %%inf, %%sq = mpt.unscale_check %%s, %s : %s"
                 % (", ".join(outs), ", ".join(grads), types))
    lines += ["  return %s, %%inf, %%sq : %s, tensor<i1>, tensor<f32>"
              % (", ".join(outs), types), "}"]
    return lines


if __name__ == "__main__":
    kind, size = sys.argv[1], int(sys.argv[2])
    print("\n".join({"chain": chain, "nest": nest, "check": check}[kind](size)))
