"""Who launched a run, for every audit record the platform writes.

An information-governance audit asks "who did this, and why": an audit line saying
`"user": "unknown"` answers neither. The answer is assembled from what is known:

- the person: the Dagster run tag `dagster/user` (set by Dagster+ and by an authenticating
  proxy deployment that tags runs), else `phm/user` (set by hand on a launch, or by the
  `PHM_RUN_USER` (or its earlier name `PHM_RELEASE_USER`) environment variable of the
  process that launched it), else the operating
  system account of the process (the account `make run` or the daemon runs as);
- the automation, when no person pressed a button: the schedule or sensor name;
- for re-identified (direct-care) outputs, the approval reference and purpose
  (`phm/approval_ref`, `phm/purpose` run tags, or the project's registry entry).

Dagster OSS does not record which UI user launched a run; the deployment guide
(deploy/README.md) puts the UI behind an authenticating proxy whose access log names the
user, and records the OS account and trigger here.
"""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Mapping

USER_TAGS = ("dagster/user", "phm/user")
USER_ENV = "PHM_RUN_USER"
USER_ENVS = (USER_ENV, "PHM_RELEASE_USER")  # PHM_RELEASE_USER: the earlier name, still honoured


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container running as a bare uid)
        return f"uid:{os.getuid()}"


def person(tags: Mapping[str, str]) -> tuple[str, str]:
    """(the person, where that name came from): a run tag, an environment variable (named),
    else the operating system account."""
    for tag in USER_TAGS:
        if tags.get(tag):
            return tags[tag], "run tag"
    for env in USER_ENVS:
        if os.environ.get(env):
            return os.environ[env], env
    return os_user(), "os account"


def who_from_tags(tags: Mapping[str, str] | None) -> dict:
    """The `who` block of an audit record from a run's tags (empty tags: this process)."""
    tags = dict(tags or {})
    user, user_source = person(tags)
    schedule, sensor = tags.get("dagster/schedule_name"), tags.get("dagster/sensor_name")
    if schedule:
        trigger = f"schedule:{schedule}"
    elif sensor:
        trigger = f"sensor:{sensor}"
    elif tags.get("dagster/backfill"):
        trigger = f"backfill:{tags['dagster/backfill']}"
    elif tags.get("trigger"):
        trigger = tags["trigger"]
    else:
        trigger = "manual"
    who = {
        "user": user,
        "user_source": user_source,
        "os_user": os_user(),
        "host": socket.gethostname(),
        "trigger": trigger,
    }
    for tag, field in (("phm/approval_ref", "approval_ref"), ("phm/purpose", "purpose")):
        if tags.get(tag):
            who[field] = tags[tag]
    return who


def launched_by(run) -> dict:
    """`who_from_tags` for a Dagster run (or None outside Dagster)."""
    return who_from_tags(getattr(run, "tags", None))
