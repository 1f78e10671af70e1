#!/usr/bin/python3
"""groved's Docker container endpoints driven by docker-py 5.0.3 (Debian's python3-docker) and
aiohttp: every method of Container and ContainerCollection (but the file ones: commit, diff,
export, get_archive, put_archive), with binds, tmpfs, volumes and capabilities, attach's 101
upgrade read from a raw socket, attach/ws, and detach keys.

Run by DockerContainersTest.ROOT_PythonClients against a groved serving the Docker API on
--socket with the busybox image tagged "busybox". Prints "the container flow passed" when every
check held; any failure raises.
"""

import argparse
import asyncio
import json
import os
import socket as sockets
import struct
import tempfile
import time

import aiohttp
import docker


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def read_exactly(sock, size):
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        check(chunk, f"stream ended after {data!r}")
        data += chunk
    return data


def read_frame(sock):
    """One multiplexed frame, as (stream, bytes), without waiting for the stream's end."""
    stream, length = struct.unpack(">BxxxL", read_exactly(sock, 8))
    return stream, read_exactly(sock, length)


def read_frames(sock):
    """Docker's multiplexed frames from a raw socket, as (stream, bytes)."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    frames = []
    while len(data) >= 8:
        stream, length = struct.unpack(">BxxxL", data[:8])
        frames.append((stream, data[8:8 + length]))
        data = data[8 + length:]
    check(data == b"", f"trailing bytes {data!r}")
    return frames


def collection(client):
    check(client.containers.run("busybox", "echo hi", remove=True) == b"hi\n", "run echo")
    out = client.containers.run("busybox", ["sh", "-c", "echo out; echo err >&2"],
                                stdout=False, stderr=True, remove=True)
    check(out == b"err\n", f"run stderr only {out!r}")
    try:
        client.containers.run("busybox", ["sh", "-c", "exit 3"], remove=True)
        raise AssertionError("a failing run did not raise")
    except docker.errors.ContainerError as error:
        check(error.exit_status == 3, str(error))

    created = client.containers.create("busybox", "sleep 30", name="py-created",
                                       labels={"flow": "py"})
    check(created.status == "created", created.status)
    check(client.containers.get("py-created").id == created.id, "get by name")
    check(client.containers.get(created.id[:12]).name == "py-created", "get by short id")
    listed = client.containers.list(all=True, filters={"label": "flow=py"})
    check([c.id for c in listed] == [created.id], f"label filter {listed}")
    check(client.containers.list() == [], "nothing runs")
    check(client.containers.list(all=True, filters={"status": "created", "name": "py-created"}),
          "status and name filters")
    check(not client.containers.list(all=True, filters={"status": "exited",
                                                        "name": "py-created"}),
          "status filter excludes")
    try:
        client.containers.get("nosuch")
        raise AssertionError("nosuch found")
    except docker.errors.NotFound:
        pass
    created.remove()

    detached = client.containers.run("busybox", ["sh", "-c", "echo started; exit 5"],
                                     detach=True, labels={"flow": "prune"})
    check(detached.wait()["StatusCode"] == 5, "wait exit 5")
    check(detached.logs() == b"started\n", "logs of a detached run")
    check(client.containers.list(all=True, filters={"exited": "5"})[0].id == detached.id,
          "exited filter")
    check(client.containers.list(all=True, filters={"ancestor": "busybox"}), "ancestor filter")
    pruned = client.containers.prune(filters={"label": "flow=prune"})
    check(pruned["ContainersDeleted"] == [detached.id], str(pruned))


def container_methods(client):
    c = client.containers.run("busybox", ["sh", "-c", "trap 'exit 7' TERM; "
                                          "while :; do echo tick; sleep 0.1; done"],
                              detach=True, name="py-methods", stop_signal="SIGTERM")
    c.reload()
    check(c.status == "running" and c.attrs["State"]["Pid"] > 0, c.status)
    check(c.attrs["Config"]["Tty"] is False and c.attrs["Name"] == "/py-methods", "inspect")
    check(c.image.id == client.images.get("busybox").id, "image id")

    result = c.exec_run("sh -c 'echo $0; exit 4'")
    check(result.exit_code == 4, f"exec exit {result}")
    check(result.output == b"sh\n", f"exec output {result.output!r}")
    split = c.exec_run(["sh", "-c", "echo o; echo e >&2"], demux=True)
    check(split.output == (b"o\n", b"e\n"), f"demux {split.output!r}")
    env = c.exec_run(["sh", "-c", "echo $X; pwd"], environment={"X": "1"}, workdir="/tmp")
    check(env.output == b"1\n/tmp\n", f"exec env {env.output!r}")
    streamed = c.exec_run(["echo", "streamed"], stream=True)
    check(b"".join(streamed.output) == b"streamed\n", "exec stream")

    for line in c.logs(stream=True):
        check(line == b"tick\n", f"log line {line!r}")
        break
    check(c.logs(tail=1) == b"tick\n", "tail")
    stamped = c.logs(tail=1, timestamps=True).decode()
    check(stamped.endswith(" tick\n") and stamped[:4].isdigit(), stamped)
    check(c.logs(since=int(time.time()) + 60) == b"", "since the future")

    top = c.top()
    check("PID" in top["Titles"] and top["Processes"], str(top))
    stats = c.stats(stream=False)
    for key in ("read", "precpu_stats", "cpu_stats", "memory_stats", "blkio_stats",
                "pids_stats", "networks"):
        check(key in stats, f"stats has {key}")
    check(stats["pids_stats"]["current"] >= 1, str(stats["pids_stats"]))
    live = c.stats(stream=True, decode=True)
    check("cpu_stats" in next(live), "stats stream")
    live.close()

    c.update(mem_limit="64m", cpu_quota=50000)
    c.reload()
    check(c.attrs["HostConfig"]["Memory"] == 64 << 20, str(c.attrs["HostConfig"]))

    c.pause()
    c.reload()
    check(c.status == "paused", c.status)
    c.unpause()
    c.reload()
    check(c.status == "running", c.status)

    c.rename("py-renamed")
    c.reload()
    check(c.name == "py-renamed", c.name)

    c.stop(timeout=5)
    check(c.wait()["StatusCode"] == 7, "stopped by TERM, trapped")
    c.start()
    c.restart(timeout=1)
    c.reload()
    check(c.status == "running", "restarted")
    c.kill(signal="SIGKILL")
    check(c.wait()["StatusCode"] == 137, "killed")
    try:
        c.kill()
        raise AssertionError("killed a stopped container")
    except docker.errors.APIError as error:
        check(error.status_code == 409, str(error))
    c.remove()
    try:
        c.reload()
        raise AssertionError("removed container still there")
    except docker.errors.NotFound:
        pass


def published_ports(client):
    """The bridge network: container.ports and api.port with a random TCP port and a UDP one
    on loopback, and the page served through the TCP one."""
    c = client.containers.run(
        "busybox", ["sh", "-c", "mkdir -p /www && echo py-page > /www/index.html && "
                    "exec httpd -f -p 80 -h /www"],
        detach=True, name="py-ports", ports={"80/tcp": None, "81/udp": ("127.0.0.1", None)})
    c.reload()
    tcp = c.ports["80/tcp"]
    check(len(tcp) == 1 and tcp[0]["HostIp"] == "0.0.0.0" and int(tcp[0]["HostPort"]) > 0,
          f"ports {c.ports}")
    check(c.ports["81/udp"][0]["HostIp"] == "127.0.0.1", f"ports {c.ports}")
    check(client.api.port(c.id, 80) == tcp, f"port {client.api.port(c.id, 80)}")
    check(c.attrs["NetworkSettings"]["IPAddress"] ==
          c.attrs["NetworkSettings"]["Networks"]["bridge"]["IPAddress"] != "", "address")
    page = b""
    for _ in range(100):
        try:
            with sockets.create_connection(("127.0.0.1", int(tcp[0]["HostPort"])), 5) as conn:
                conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
                page = b"".join(iter(lambda: conn.recv(4096), b""))
        except OSError:
            pass
        if b"py-page" in page:
            break
        time.sleep(0.05)
    check(b"py-page" in page, f"page {page!r}")
    c.remove(force=True)


def attach_and_resize(client):
    # attach (a generator of output) and attach_socket (stdin in, frames out).
    c = client.containers.create("busybox", ["sh", "-c", "read line; echo got $line; "
                                             "echo bye >&2"],
                                 stdin_open=True)
    sock = c.attach_socket(params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
    c.start()
    raw = sock._sock
    raw.sendall(b"hello\n")
    frames = read_frames(raw)
    check(frames == [(1, b"got hello\n"), (2, b"bye\n")], f"attach frames {frames}")
    check(c.wait()["StatusCode"] == 0, "attached run")
    check(c.attach(stdout=True, stderr=True, logs=True, stream=False) == b"got hello\nbye\n",
          "attach logs")
    c.remove()

    t = client.containers.run("busybox", "sh -c 'sleep 0.3; stty size'", tty=True, detach=True)
    t.resize(height=33, width=101)
    check(t.wait()["StatusCode"] == 0, "tty run")
    check(t.logs() == b"33 101\r\n", f"resized tty {t.logs()!r}")
    t.remove()

    # An exec's own tty is resized too.
    t = client.containers.run("busybox", "sleep 30", tty=True, detach=True)
    ex = client.api.exec_create(t.id, ["sh", "-c", "sleep 0.5; stty size"], tty=True)
    out = client.api.exec_start(ex["Id"], tty=True, stream=True)
    client.api.exec_resize(ex["Id"], height=21, width=77)
    got = b"".join(out)
    check(got == b"21 77\r\n", f"resized exec tty {got!r}")
    try:
        client.api.exec_resize(ex["Id"], height=21, width=77)
        raise AssertionError("resized an exec that ended")
    except docker.errors.APIError as error:
        check(error.status_code == 409, str(error))
    t.remove(force=True)


async def raw_upgrade(socket):
    """attach's hijack as aiodocker does it: a 101 UPGRADED reply, then the frames."""
    connector = aiohttp.UnixConnector(path=socket)
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.post("http://docker/v1.41/containers/create",
                                json={"Image": "busybox",
                                      "Cmd": ["sh", "-c", "echo out; echo err >&2"]}) as made:
            check(made.status == 201, f"create {made.status}")
            cid = (await made.json())["Id"]
    reader, writer = await asyncio.open_unix_connection(socket)
    writer.write((f"POST /v1.41/containers/{cid}/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\n"
                  "Host: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
                  "Content-Length: 0\r\n\r\n").encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    check(head.startswith(b"HTTP/1.1 101 UPGRADED\r\n"), head.decode())
    check(b"Upgrade: tcp\r\n" in head and b"Connection: Upgrade\r\n" in head, head.decode())
    check(b"application/vnd.docker.raw-stream" in head, head.decode())
    async with aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=socket)) as session:
        async with session.post(f"http://docker/v1.41/containers/{cid}/start") as started:
            check(started.status == 204, f"start {started.status}")
    body = await asyncio.wait_for(reader.read(), 10)
    check(body == b"\x01\0\0\0\0\0\0\x04out\n\x02\0\0\0\0\0\0\x04err\n", repr(body))
    writer.close()
    async with aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=socket)) as session:
        async with session.post(f"http://docker/v1.41/containers/{cid}/wait") as waited:
            check(json.loads(await waited.read()) == {"Error": None, "StatusCode": 0}, "wait")
        async with session.delete(f"http://docker/v1.41/containers/{cid}") as removed:
            check(removed.status == 204, f"remove {removed.status}")


async def websocket_attach(socket):
    """attach/ws: stdin in through text frames, output out as raw text frames, pings answered."""
    async with aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=socket)) as session:
        async with session.post("http://docker/v1.41/containers/create",
                                json={"Image": "busybox", "OpenStdin": True,
                                      "Cmd": ["sh", "-c", "read line; echo got $line; "
                                              "echo err >&2"]}) as made:
            cid = (await made.json())["Id"]
        url = f"http://docker/v1.41/containers/{cid}/attach/ws?stream=1&stdin=1&stdout=1&stderr=1"
        async with session.ws_connect(url, autoping=False) as ws:
            async with session.post(f"http://docker/v1.41/containers/{cid}/start") as started:
                check(started.status == 204, f"start {started.status}")
            await ws.ping(b"p")
            pong = await asyncio.wait_for(ws.receive(), 10)
            check(pong.type == aiohttp.WSMsgType.PONG and pong.data == b"p", repr(pong))
            await ws.send_str("hello\n")
            got = ""
            while True:
                message = await asyncio.wait_for(ws.receive(), 10)
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                got += message.data
            check(message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED),
                  f"closed at the end: {message!r}")
            check(got == "got hello\nerr\n", f"websocket output {got!r}")
        async with session.delete(f"http://docker/v1.41/containers/{cid}?force=1") as removed:
            check(removed.status == 204, f"remove {removed.status}")


def detach_keys(client):
    """The detach keys end an attach (and an exec's stream) and leave the process running."""
    c = client.containers.run("busybox", "cat", stdin_open=True, detach=True)
    sock = c.attach_socket(params={"stdin": 1, "stdout": 1, "stream": 1,
                                   "detachKeys": "ctrl-x,x"})
    raw = sock._sock
    raw.sendall(b"one\n\x18two\n")  # ctrl-x not followed by x: it goes through
    raw.settimeout(10)
    got = b""
    while len(got) < len(b"one\n\x18two\n"):
        stream, data = read_frame(raw)
        check(stream == 1, f"stdout frame {stream}")
        got += data
    check(got == b"one\n\x18two\n", f"held ctrl-x released: {got!r}")
    raw.sendall(b"\x18x")
    check(raw.recv(100) == b"", "detached: the server closed the stream")
    c.reload()
    check(c.status == "running", f"still running after a detach: {c.status}")
    try:
        c.attach_socket(params={"stdin": 1, "stream": 1, "detachKeys": "ctrl-1"})
        raise AssertionError("bad detach keys accepted")
    except docker.errors.APIError as error:
        check(error.status_code == 400 and "Invalid detach keys" in str(error), str(error))
    c.remove(force=True)


def events(client, since):
    seen = [event["Action"] for event in client.events(since=since, until=int(time.time()) + 1,
                                                        decode=True,
                                                        filters={"type": "container"})]
    for action in ("create", "start", "die", "destroy", "kill", "stop", "pause", "unpause",
                   "rename", "restart"):
        check(action in seen, f"{action} in {seen}")
    check(any(a.startswith("exec_create") for a in seen), f"exec events in {seen}")


def mounts_and_capabilities(client):
    with tempfile.TemporaryDirectory(prefix="grove-flow-") as host:
        binds_and_capabilities(client, host)
    volumes(client)


def binds_and_capabilities(client, host):
    with open(os.path.join(host, "f"), "w") as f:
        f.write("from the host\n")
    out = client.containers.run(
        "busybox", ["sh", "-c", "cat /data/f; touch /data/x 2>&1; grep ' /t ' /proc/mounts;"
                    "echo kept > /v/y; grep CapEff /proc/self/status"],
        volumes={host: {"bind": "/data", "mode": "ro"}}, tmpfs={"/t": "size=1m"},
        mounts=[docker.types.Mount("/v", "pyvol", type="volume")],
        cap_drop=["ALL"], cap_add=["CHOWN"], remove=True).decode()
    check(out.startswith("from the host\ntouch: /data/x: Read-only file system\n"), out)
    check("tmpfs /t tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k" in out, out)
    check(out.endswith("CapEff:\t0000000000000001\n"), out)  # CHOWN alone


def volumes(client):
    check(client.containers.run("busybox", "cat /v/y", volumes=["pyvol:/v"], remove=True)
          == b"kept\n", "a named volume keeps its files")

    c = client.containers.create("busybox", "true", volumes=["/anon"])
    mounts = c.attrs["Mounts"]
    check(len(mounts) == 1 and mounts[0]["Type"] == "volume"
          and mounts[0]["Destination"] == "/anon", str(mounts))
    anonymous = mounts[0]["Source"]
    check(os.path.isdir(anonymous), anonymous)
    c.remove(v=True)
    check(not os.path.exists(anonymous), "remove(v=True) keeps the anonymous volume")
    try:
        client.containers.run("busybox", "true", cap_add=["NOPE"], remove=True)
        raise AssertionError("an unknown capability was taken")
    except docker.errors.APIError as error:
        check(error.status_code == 400, str(error))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", required=True)
    args = parser.parse_args()
    check(docker.__version__ == "5.0.3", f"docker-py {docker.__version__}")
    since = int(time.time()) - 1
    client = docker.DockerClient(base_url="unix://" + args.socket, version="1.41")
    collection(client)
    container_methods(client)
    published_ports(client)
    mounts_and_capabilities(client)
    attach_and_resize(client)
    asyncio.run(raw_upgrade(args.socket))
    asyncio.run(websocket_attach(args.socket))
    detach_keys(client)
    events(client, since)
    check(client.containers.list(all=True) == [], "every container removed")
    print("the container flow passed")


if __name__ == "__main__":
    main()
