#!/usr/bin/env python3
"""A UDP echo server on CPython's socketserver.ThreadingUDPServer (a thread per
datagram), the Python peer that benches/udp_load.rs measures next to ours.

Usage: python3 benches/udp_echo_server.py [HOST:PORT]   (default 127.0.0.1:0)

Prints `listening on HOST:PORT` as the first line on stderr, as `threadkit
udp-serve` does, then sends every datagram back to its sender. It exits when its
stdin reaches end-of-file, so it never outlives the load generator that started it.
"""

import socketserver
import sys
import threading

from echo_server import exit_at_end_of_stdin


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        try:
            sock.sendto(data, self.client_address)
        except OSError:
            pass


class Server(socketserver.ThreadingUDPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    host, _, port = (sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:0").rpartition(":")
    with Server((host.strip("[]"), int(port)), EchoHandler) as server:
        addr = server.server_address
        print(f"listening on {addr[0]}:{addr[1]}", file=sys.stderr, flush=True)
        threading.Thread(target=exit_at_end_of_stdin, daemon=True).start()
        server.serve_forever()


if __name__ == "__main__":
    main()
