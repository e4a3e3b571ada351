"""Edits per second of engines deployed on Ray Serve, against the number of replicas and of concurrent clients.

Run: python benchmarks/bench_ray.py [--replicas 1 2] [--clients 1 2 4] [--edits 6] [--engine offline]
     python benchmarks/bench_ray.py --engine diffusion --max-batch 1 4 [--models DIR]   (tiny random models unless DIR)
Starts a local Ray instance (this machine's CPUs), deploys the engine with each replica count, and has
``clients`` threads each open a session on an example photo and apply ``edits`` edits (each a render plus
its identity, direction and realism checks, stored in SQLite). Prints one row per (replicas, clients).
The in-process engine is timed first as the baseline. With ``--max-batch`` above 1 a replica gathers
concurrent decodes into one batched pass (the diffusion engine batches; the others decode one by one).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path


def run_clients(service, photos, clients: int, edits: int) -> float:
    from chatface.tools.schemas import AttributeEdit

    editors = [service.open_photo(f"photo-{i}", image=photos[i % len(photos)]) for i in range(clients)]
    strengths = [0.2 + 0.1 * k for k in range(edits)]

    def client(ed) -> None:
        tools = service.toolkit(ed)
        for s in strengths:
            tools.apply_attribute([AttributeEdit(attribute="smiling", strength=round(s, 2))])

    threads = [threading.Thread(target=client, args=(ed,)) for ed in editors]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return clients * edits / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--edits", type=int, default=6)
    ap.add_argument("--engine", default="offline")
    ap.add_argument("--max-batch", type=int, nargs="+", default=[1])
    ap.add_argument("--models", default=None, help="diffusion models directory (default: tiny random ones, made here)")
    args = ap.parse_args()

    import ray
    from chatface.configuration import Configuration
    from chatface.models.images import load_image
    from chatface.tools.examples import write_example_photos
    from chatface.tools.service import EditService

    tmp = Path(tempfile.mkdtemp())
    photos = [load_image(p) for p in write_example_photos(tmp / "photos") if p.suffix == ".png"]
    print(f"{os.cpu_count()} CPUs; {args.engine} engine; {args.edits} edits per client; photos {[p.shape[:2] for p in photos]}")
    options = {"max_attempts": 0}
    if args.engine == "diffusion":
        from chatface.models.weights.tiny import make_tiny
        from chatface.tools.vocabulary import default_vocabulary

        models = args.models or str(make_tiny(tmp / "tiny", default_vocabulary().texts()))
        options.update(models_dir=models, device="cpu", dtype="float32", steps=10)
    local = EditService(Configuration(engine=args.engine, database_url=f"sqlite:///{tmp / 'local.db'}", **options))
    print(f"in-process, 1 client: {run_clients(local, photos, 1, args.edits):.2f} edits/s")
    ray.init(num_cpus=max(4, max(args.replicas) + 2), include_dashboard=False, namespace="chatface", log_to_driver=False)
    print("replicas  max_batch  clients  edits/s")
    for replicas in args.replicas:
        for max_batch in args.max_batch:
            svc = EditService(
                Configuration(
                    engine=args.engine, database_url=f"sqlite:///{tmp / f'ray{replicas}-{max_batch}.db'}", ray_address="local", **options
                )
            )
            svc.deploy(replicas=replicas, max_batch=max_batch)
            run_clients(svc, photos, 1, 1)  # warm: the replicas loaded their models
            for clients in args.clients:
                print(f"{replicas:8d}  {max_batch:9d}  {clients:7d}  {run_clients(svc, photos, clients, args.edits):7.2f}")
            svc.close()
    ray.shutdown()


if __name__ == "__main__":
    main()
