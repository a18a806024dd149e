#!/usr/bin/env python3
"""Drives a compiled model's chat in a pseudo-terminal, as a person would.

  chat-tty-check.py MODEL_EXE

Checks that a typed line longer than the terminal's 4,095-byte canonical
limit arrives whole, that pasted lines stay one message, that the up arrow
recalls the last message, and that end of input (Ctrl-D) or Ctrl-C at the
prompt ends the chat.
"""
import json
import os
import pty
import select
import sys
import time

exe = sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    os.execv(exe, [exe, "-n", "1", "--seed", "1", "--verbose-prompt"])

out = b""


def read_until(marker, timeout=60):
    global out
    end = time.time() + timeout
    while marker not in out:
        left = end - time.time()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise SystemExit(f"FAIL: no {marker!r} within {timeout} s; output so far:\n{out[-2000:]!r}")
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            raise SystemExit(f"FAIL: the chat ended waiting for {marker!r}:\n{out[-2000:]!r}")
        out += chunk


def wait_for_prompt():
    """The "> " prompt, then a moment for the line editor to set up the
    terminal (input typed before that may be flushed, as in any shell)."""
    read_until(b"> ")
    time.sleep(0.5)


def message_of_last_prompt():
    line = out[out.rindex(b"prompt text: "):].split(b"\r\n")[0][len(b"prompt text: "):]
    text = json.loads(line.decode())
    return text[text.rindex("<|im_start|>user\n") + len("<|im_start|>user\n"):text.rindex("<|im_end|>")]


failures = 0


def expect(name, got, want):
    global failures
    ok = got == want
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + ("" if ok else f": got {got[:80]!r}... ({len(got)} bytes)"))


wait_for_prompt()
long_line = ("0123456789abcdefghijklmnopqrstuvwxyz " * 300)[:10000]
for i in range(0, len(long_line), 512):  # typed, not one write: the terminal's own pace
    os.write(fd, long_line[i:i + 512].encode())
    time.sleep(0.01)
os.write(fd, b"\r")
read_until(b"prompt ids: ")
expect("a typed line of 10,000 bytes arrives whole", message_of_last_prompt(), long_line)
out = out[out.rindex(b"prompt ids: ") + 12:]
wait_for_prompt()

os.write(fd, b"pasted line one\rpasted line two\r")
read_until(b"prompt ids: ")
expect("pasted lines stay one message", message_of_last_prompt(), "pasted line one\npasted line two")
out = out[out.rindex(b"prompt ids: ") + 12:]
wait_for_prompt()

os.write(fd, b"\x1b[A")  # up arrow: the last message back for editing
time.sleep(0.3)
os.write(fd, b" again\r")
read_until(b"prompt ids: ")
expect("the up arrow recalls the last message", message_of_last_prompt(), "pasted line one\npasted line two again")
out = out[out.rindex(b"prompt ids: ") + 12:]
wait_for_prompt()

os.write(fd, b"\x04")  # Ctrl-D at the prompt
read_until(b"prefill:")
_, status = os.waitpid(pid, 0)
expect("end of input ends the chat with status 0", str(os.waitstatus_to_exitcode(status)), "0")
# Ctrl-C at the prompt leaves the chat too.
pid, fd = pty.fork()
if pid == 0:
    os.execv(exe, [exe, "-n", "1"])
out = b""
wait_for_prompt()
os.write(fd, b"\x03")
read_until(b"prefill:")
_, status = os.waitpid(pid, 0)
expect("Ctrl-C at the prompt ends the chat with status 0", str(os.waitstatus_to_exitcode(status)), "0")
print(f"chat in a terminal: {5 - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
