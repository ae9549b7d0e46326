"""Prints the PTX text held by the first gpu.binary of MLIR read on stdin."""
import re
import sys

text = sys.stdin.read()
m = re.search(r'assembly = "((?:[^"\\]|\\.)*)"', text)
if not m:
    sys.exit("no PTX assembly in the gpu.binary")
raw = m.group(1)
# MLIR escapes: \\, \", and \XX hex bytes (\0A is a newline).
out = re.sub(r'\\([0-9A-Fa-f]{2})', lambda h: chr(int(h.group(1), 16)), raw)
out = out.replace('\\"', '"').replace('\\\\', '\\')
sys.stdout.write(out)
