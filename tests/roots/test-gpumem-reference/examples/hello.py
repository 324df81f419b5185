"""Print the bytes of GPT-2's weights in BF16 and draw a square into the file named first."""

import sys

from gpumem.precision import weight_bytes

print(f"hello: {weight_bytes(124_439_808, 'bf16'):,} bytes")
if len(sys.argv) > 1:
    with open(sys.argv[1], "w", encoding="utf-8") as file:
        file.write('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>\n')
