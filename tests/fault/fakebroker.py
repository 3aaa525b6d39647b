#!/usr/bin/python3
# fakebroker.py -- a deliberately broken broker, to prove hostile's checks can fail
#
#   fakebroker.py MODE    (prints "listening 127.0.0.1:PORT", serves forever)
#
# It answers just enough for hostile's health checks (ApiVersions v0,
# Metadata v1 and v4) and then misbehaves on purpose:
#   accept   every Produce gets error NONE, corrupt batches included
#   silent   every Produce is read and never answered
import socket
import struct
import sys
import threading


def frame(corr, body):
    return struct.pack(">ii", 4 + len(body), corr) + body


def s16(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def answer(key, ver, corr, port):
    if key == 18:           # ApiVersions v0: no error, one key
        return frame(corr, struct.pack(">hihhh", 0, 1, 18, 0, 3))
    if key == 3:            # Metadata: one broker, topic "hostile"
        broker = struct.pack(">i", 0) + s16("127.0.0.1") + \
            struct.pack(">i", port)
        if ver >= 1:
            broker += struct.pack(">h", -1)             # rack null
        part = struct.pack(">hiiiii", 0, 0, 0, 1, 0, 1) + struct.pack(">i", 0)
        topic = struct.pack(">h", 0) + s16("hostile")
        if ver >= 1:
            topic += b"\0"                              # is_internal
        topic += struct.pack(">i", 1) + part
        body = b""
        if ver >= 3:
            body += struct.pack(">i", 0)                # throttle
        body += struct.pack(">i", 1) + broker
        if ver >= 2:
            body += struct.pack(">h", -1)               # cluster_id
        if ver >= 1:
            body += struct.pack(">i", 0)                # controller
        body += struct.pack(">i", 1) + topic
        return frame(corr, body)
    if key == 0 and MODE == "accept":   # Produce v7: NONE
        body = struct.pack(">i", 1) + s16("hostile") + struct.pack(
            ">iihqqq", 1, 0, 0, 0, -1, 0) + struct.pack(">i", 0)
        return frame(corr, body)
    return None


def serve(c, port):
    buf = b""
    try:
        while True:
            d = c.recv(65536)
            if not d:
                break
            buf += d
            while len(buf) >= 4:
                n = struct.unpack(">i", buf[:4])[0]
                if n < 8 or n > 200 << 20:
                    c.close()
                    return
                if len(buf) < 4 + n:
                    break
                key, ver, corr = struct.unpack(">hhi", buf[4:12])
                buf = buf[4 + n:]
                a = answer(key, ver, corr, port)
                if a is not None:
                    c.sendall(a)
                elif key != 0:
                    c.close()
                    return
    except OSError:
        pass
    c.close()


MODE = sys.argv[1]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(64)
port = s.getsockname()[1]
print("listening 127.0.0.1:%d" % port, flush=True)
while True:
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn, port), daemon=True).start()
