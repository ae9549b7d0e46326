"""Prints the PTX of the gpu.binary named argv[1] in MLIR read on stdin."""
import re
import sys

text = sys.stdin.read()
m = re.search(r'gpu.binary @%s\b.*?assembly = "((?:[^"\\]|\\.)*)"'
              % re.escape(sys.argv[1]), text, re.S)
if not m:
    sys.exit("no PTX assembly in a gpu.binary named " + sys.argv[1])
out = re.sub(r'\\([0-9A-Fa-f]{2})', lambda h: chr(int(h.group(1), 16)),
             m.group(1))
sys.stdout.write(out.replace('\\"', '"').replace('\\\\', '\\'))
