#!/usr/bin/env python3
"""A line echo server on CPython's socketserver.ThreadingTCPServer (a thread per
client), the Python peer that benches/echo_load.rs measures next to ours.

Usage: python3 benches/echo_server.py [HOST:PORT [BACKLOG]]   (default 127.0.0.1:0 1024)

Prints `listening on HOST:PORT` as the first line on stderr, as `threadkit serve`
does, then echoes every line back exactly as sent. It exits when its stdin reaches
end-of-file, so it never outlives the load generator that started it.
"""

import os
import socketserver
import sys
import threading


class EchoHandler(socketserver.StreamRequestHandler):
    # Small request/response lines: send each one at once, as the other servers do.
    disable_nagle_algorithm = True

    def handle(self):
        try:
            for line in self.rfile:
                self.wfile.write(line)
        except ConnectionError:
            pass


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    # The default (5) would drop SYNs when 256 clients connect at once.
    request_queue_size = 1024


def exit_at_end_of_stdin():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


def main():
    host, _, port = (sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:0").rpartition(":")
    if len(sys.argv) > 2:
        Server.request_queue_size = int(sys.argv[2])
    with Server((host.strip("[]"), int(port)), EchoHandler) as server:
        addr = server.server_address
        print(f"listening on {addr[0]}:{addr[1]}", file=sys.stderr, flush=True)
        threading.Thread(target=exit_at_end_of_stdin, daemon=True).start()
        server.serve_forever()


if __name__ == "__main__":
    main()
