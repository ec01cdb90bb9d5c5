"""Publishing benchmark: posts/s through the X sandbox with 4 worker processes, and the due-post claim query at
10 k vs 1 M scheduled rows.

(a) 10,000 due posts, one `celery worker -c 4` (queues default,publish) on Redis, the sandbox in its own process
    with processing_secs 0 and the account's post limits raised; every post is then counted on the sandbox
    (duplicates and lost posts printed).
(b) The claim query of `publishing.dispatch.claim_due_posts` (SELECT ... FOR UPDATE SKIP LOCKED LIMIT 500), timed
    through the ORM and with EXPLAIN ANALYZE, with 1,000 due rows among 10 k and then 1 M rows (most scheduled in
    the future, some already posted).

BENCH_PUBLISH_POSTS and BENCH_QUERY_ROWS override the sizes (for a quick check).
"""

from __future__ import annotations

import io
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _django

POSTS = int(os.environ.get("BENCH_PUBLISH_POSTS", "10000"))
QUERY_ROWS = [int(n) for n in os.environ.get("BENCH_QUERY_ROWS", "10000,1000000").split(",")]
DUE_ROWS = 1000
PUBLISH_TIMEOUT = 500.0
QUERY_REPEATS = 25
CONSUMER = {"consumer_key": "clipcast-bench-consumer", "consumer_secret": "clipcast-bench-consumer-secret"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tiny_mp4(folder: Path) -> Path:
    import imageio_ffmpeg

    path = folder / "bench.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc=size=64x64:rate=10", "-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags",
                    "+faststart", str(path)], check=True, timeout=60)
    return path


def start_sandbox(folder: Path) -> tuple[subprocess.Popen, str]:
    import requests

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "publishing.sandbox", "--port", str(port), "--db",
                             str(folder / "sandbox.sqlite3"), "--processing-secs", "0"], cwd=_django.ROOT,
                            env=_django.bench_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(f"{url}/_sandbox/config", timeout=1).raise_for_status()
            return proc, url
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError("the X sandbox did not start within 10 s")


def wait_ready(queue: str, worker: subprocess.Popen, timeout: float = 120.0) -> None:
    from clipcast.tasks import ping
    from core.models import Heartbeat

    token = uuid.uuid4().hex[:10]
    ping.apply_async(args=[queue, token], queue=queue, routing_key=queue)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError("the worker exited while starting")
        if Heartbeat.objects.filter(name=f"ping:{queue}:{token}").delete()[0]:
            return
        time.sleep(0.3)
    raise TimeoutError(f"the worker did not answer on {queue} within {timeout} s")


def make_world(sandbox_url: str, video: Path):
    import requests
    from django.core.files import File

    from generation.models import Clip, ClipStatus, ReviewStatus
    from publishing.models import AuthKind, XAccount
    from tests.factories import PromptTemplateFactory

    template = PromptTemplateFactory(campaign__workspace__slug=f"bench-publish-{uuid.uuid4().hex[:8]}")
    creds = requests.post(f"{sandbox_url}/_sandbox/accounts", timeout=10, json={
        **CONSUMER, "post_limit": 1_000_000, "daily_post_limit": 1_000_000}).json()
    account = XAccount.objects.create(
        workspace=template.campaign.workspace, handle=creds["username"], x_user_id=creds["user_id"],
        auth_kind=AuthKind.OAUTH1, access_token=creds["access_token"],
        access_token_secret=creds["access_token_secret"], min_post_gap=timedelta(0),
    )
    clip = Clip.objects.create(campaign=template.campaign, prompt="a red circle", seed=1,
                               status=ClipStatus.SUCCEEDED, review_status=ReviewStatus.APPROVED)
    with open(video, "rb") as handle:
        clip.video.save("bench.mp4", File(handle))
    return clip, account


def bench_publish(folder: Path) -> None:
    import requests
    from django.utils import timezone

    from publishing.models import Post, PostStatus
    from publishing.tasks import dispatch_due_posts
    from publishing.x.client import comparable_text

    sandbox, url = start_sandbox(folder)
    media = folder / "media"
    media.mkdir()
    worker = None
    try:
        from django.conf import settings

        settings.MEDIA_ROOT = media
        clip, account = make_world(url, tiny_mp4(folder))
        now = timezone.now()
        ids = [p.pk for p in Post.objects.bulk_create(
            (Post(clip=clip, x_account=account, caption=f"Bench post {i} of {POSTS}", scheduled_at=now
                  - timedelta(seconds=1)) for i in range(POSTS)), batch_size=2000)]
        if not ids or ids[0] is None:
            ids = list(Post.objects.filter(x_account=account).values_list("pk", flat=True))
        _django.purge_broker()
        x_env = {"MEDIA_ROOT": str(media), "X_API_BASE_URL": url, "X_UPLOAD_BASE_URL": url, "X_WEB_BASE_URL": url,
                 "X_CONSUMER_KEY": CONSUMER["consumer_key"], "X_CONSUMER_SECRET": CONSUMER["consumer_secret"]}
        worker = _django.start_worker("default,publish", concurrency=4, log_path=folder / "worker.log", **x_env)
        wait_ready("default", worker)

        started = time.perf_counter()
        dispatch_due_posts.delay()
        deadline = time.monotonic() + PUBLISH_TIMEOUT
        pending = len(ids)
        while pending and time.monotonic() < deadline:
            time.sleep(1.0)
            pending = Post.objects.filter(pk__in=ids).exclude(
                status__in=[PostStatus.POSTED, PostStatus.FAILED]).count()
        elapsed = time.perf_counter() - started
        # Stopped before counting, so nothing moves between the database count and the sandbox's.
        _django.stop(worker)
        worker = None
        rows = list(Post.objects.filter(pk__in=ids).values_list("status", "caption", "x_post_id"))
        counts = Counter(status for status, _, _ in rows)
        settled = counts[PostStatus.POSTED] + counts[PostStatus.FAILED]

        on_x = requests.get(f"{url}/_sandbox/posts", params={"user_id": account.x_user_id}, timeout=60).json()["posts"]
        per_text = Counter(comparable_text(p["text"]) for p in on_x)
        duplicates = sum(n - 1 for n in per_text.values() if n > 1)
        on_x_ids = {p["id"] for p in on_x}
        lost = sum(1 for status, _, x_id in rows if status == PostStatus.POSTED and x_id not in on_x_ids)
        unfinished = [caption for status, caption, _ in rows if status not in (PostStatus.POSTED, PostStatus.FAILED)]
        created_unrecorded = sum(1 for caption in unfinished if comparable_text(caption) in per_text)
        if unfinished:
            print(f"publish: NOT FINISHED within {PUBLISH_TIMEOUT:.0f} s on this machine: {settled}/{len(ids)} "
                  f"settled, {len(unfinished)} left (the rate below covers what was measured)")
        print(f"publish: {counts[PostStatus.POSTED]}/{len(ids)} posted, {counts[PostStatus.FAILED]} failed, in "
              f"{elapsed:.1f} s with 4 worker processes -> {settled / elapsed:.1f} posts/s "
              f"(sandbox processing_secs=0, 1 s 64x64 MP4; INIT+APPEND+FINALIZE+STATUS+create per post)")
        print(f"publish: on the sandbox {len(on_x)} posts: {duplicates} duplicates, {lost} lost (posted in the "
              f"database but missing on X), {created_unrecorded} created on X by a stopped worker before its commit "
              f"(a resumed run reconciles these)")
    finally:
        if worker is not None:
            _django.stop(worker)
        sandbox.terminate()
        sandbox.wait(timeout=20)
        _django.purge_broker()


COPY_COLUMNS = ("clip_id", "x_account_id", "caption", "scheduled_at", "status", "attempts", "media_id", "x_post_id",
                "x_post_url", "last_error", "failed_in", "metrics", "created_at", "updated_at")


def copy_rows(clip_id: int, account_id: int, count: int, due: int, start: int) -> None:
    """COPY `count` rows: `due` scheduled in the past, 20% posted in the past, the rest scheduled in the future."""
    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    posted = (count - due) // 5
    buffer = io.StringIO()
    for i in range(start, start + count):
        k = i - start
        if k < due:
            when, status = now - timedelta(seconds=1 + k), "scheduled"
        elif k < due + posted:
            when, status = now - timedelta(minutes=10 + k % 500_000), "posted"
        else:
            when, status = now + timedelta(minutes=10 + k % 500_000), "scheduled"
        buffer.write(f"{clip_id}\t{account_id}\tq{i}\t{when.isoformat()}\t{status}\t0\t\t\t\t\t\t{{}}\t"
                     f"{now.isoformat()}\t{now.isoformat()}\n")
    buffer.seek(0)
    sql = f"COPY publishing_post ({', '.join(COPY_COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)


def time_claim_query() -> tuple[float, float, float, str]:
    """The dispatcher's claim query: ORM time (median, min), EXPLAIN ANALYZE's execution time (median), a plan."""
    from django.db import transaction
    from django.utils import timezone

    from publishing.dispatch import DISPATCH_BATCH
    from publishing.models import Post

    def claim_query():
        return (Post.objects.due(timezone.now()).select_for_update(skip_locked=True, of=("self",))
                .order_by("scheduled_at", "id").only("id", "scheduled_at", "x_account_id")[:DISPATCH_BATCH])

    def run_once() -> tuple[float, float, str]:
        with transaction.atomic():
            started = time.perf_counter()
            rows = list(claim_query())
            orm = time.perf_counter() - started
            transaction.set_rollback(True)
        assert len(rows) == DISPATCH_BATCH, len(rows)
        with transaction.atomic():
            plan = claim_query().explain(analyze=True, buffers=True)
            transaction.set_rollback(True)
        return orm * 1000, float(re.search(r"Execution Time: ([\d.]+) ms", plan).group(1)), plan

    for _ in range(3):  # warm the caches and the connection first: the steady state is what the dispatcher sees
        run_once()
    samples = [run_once() for _ in range(QUERY_REPEATS)]
    orm = [s[0] for s in samples]
    return statistics.median(orm), min(orm), statistics.median(s[1] for s in samples), samples[-1][2]


def bench_query(folder: Path) -> None:
    from django.db import connection

    from publishing.models import Post

    clip, account = make_world_for_rows(folder)
    results = {}
    inserted = 0
    for total in QUERY_ROWS:
        started = time.perf_counter()
        copy_rows(clip.pk, account.pk, total - inserted, DUE_ROWS if inserted == 0 else 0, inserted)
        inserted = total
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE publishing_post")  # what autovacuum would do after a bulk load
        rows = Post.objects.count()
        print(f"query: loaded {total:,} rows ({DUE_ROWS} due) in {time.perf_counter() - started:.1f} s; "
              f"publishing_post has {rows:,} rows")
        orm_ms, orm_min_ms, exec_ms, plan = time_claim_query()
        results[total] = (orm_ms, exec_ms)
        print(f"query: {total:>9,} rows: claim query {orm_ms:.2f} ms through the ORM (min {orm_min_ms:.2f}), "
              f"{exec_ms:.2f} ms EXPLAIN ANALYZE execution (medians of {QUERY_REPEATS})")
        print("       plan: " + "\n       plan: ".join(plan.splitlines()[:6]))
    small, big = QUERY_ROWS[0], QUERY_ROWS[-1]
    if small != big:
        print(f"query: {big:,} vs {small:,} rows: ORM time ratio {results[big][0] / results[small][0]:.2f}x, "
              f"execution time ratio {results[big][1] / results[small][1]:.2f}x")
    Post.objects.filter(x_account=account).delete()


def make_world_for_rows(folder: Path):
    from generation.models import Clip, ClipStatus, ReviewStatus
    from publishing.models import AuthKind, XAccount
    from tests.factories import PromptTemplateFactory

    template = PromptTemplateFactory(campaign__workspace__slug=f"bench-publish-{uuid.uuid4().hex[:8]}")
    account = XAccount.objects.create(workspace=template.campaign.workspace, handle="bench_rows",
                                      auth_kind=AuthKind.OAUTH1, min_post_gap=timedelta(0))
    clip = Clip.objects.create(campaign=template.campaign, prompt="rows", seed=1, status=ClipStatus.SUCCEEDED,
                               review_status=ReviewStatus.APPROVED)
    return clip, account


def clear_earlier_runs() -> None:
    from django.db import connection

    from publishing.models import Post

    # The query benchmark needs a table holding only its own rows; earlier (possibly interrupted) runs left theirs.
    Post.objects.filter(x_account__workspace__slug__startswith="bench-publish-").delete()
    with connection.cursor() as cursor:
        # A deleted million rows leave the indexes bloated, which would make the next "10 k" run look like a big table.
        cursor.execute("REINDEX TABLE publishing_post")
        cursor.execute("VACUUM ANALYZE publishing_post")


def main() -> None:
    _django.setup()
    clear_earlier_runs()
    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        folder = Path(tmp)
        bench_publish(folder)
        clear_earlier_runs()
        bench_query(folder)


if __name__ == "__main__":
    main()
