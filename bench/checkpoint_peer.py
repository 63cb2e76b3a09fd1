#!/usr/bin/env python3
"""Peer comparison for bench/checkpoint.py: boto3's transfer manager (what the
AWS CLI and the SageMaker SDK use) uploading and downloading a 1 GiB file
against a plain moto server on loopback (no IAM enforcement).

    .venv/bin/python bench/checkpoint_peer.py
"""
import os, subprocess, sys, time, socket, tempfile, resource
import boto3
from boto3.s3.transfer import TransferConfig
port = 5131
srv = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close(); break
    except OSError: time.sleep(0.1)
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
s3.create_bucket(Bucket="bench-bucket")
d = tempfile.mkdtemp()
src = os.path.join(d, "model.bin")
with open(src, "wb") as f:
    f.truncate(1 << 30)
for name, cfg in [("boto3 default (8 MiB parts, 10 threads)", TransferConfig()), ("boto3 64 MiB parts, 4 threads (hoist's settings)", TransferConfig(multipart_chunksize=64<<20, max_concurrency=4))]:
    t = time.time(); s3.upload_file(src, "bench-bucket", "k", Config=cfg); up = time.time() - t
    t = time.time(); s3.download_file("bench-bucket", "k", os.path.join(d, "out"), Config=cfg); down = time.time() - t
    print(f"{name}: upload {up:.1f} s ({1024/up:.0f} MiB/s), download {down:.1f} s ({1024/down:.0f} MiB/s), peak RSS so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss//1024} MiB")
srv.kill()
