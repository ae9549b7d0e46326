# Run by python-install.test with the installed package.
import sys

import mpt

venv = sys.argv[1]
assert mpt.__file__.startswith(venv), (mpt.__file__, venv)
print("installed mpt %s" % mpt.__version__)
assert "numpy" not in sys.modules  # `python3 -m mpt.gen` needs no numpy
print("import mpt: no numpy")

import numpy as np  # noqa: E402

from mpt import gen  # noqa: E402
from mpt.testing import gradcheck  # noqa: E402

print("mpt.testing.gradcheck: %s" % gradcheck.__file__)
text, _ = gen.generate("mlp", batch=2, widths=[3, 4, 2])
step = mpt.compile(text, amp="bf16")
arrays = {a.name: np.full(a.shape, 0.5, np.float32) for a in step.arguments
          if a.role in ("input", "param")}
print("step: loss %.4f" % step(**arrays).loss)
