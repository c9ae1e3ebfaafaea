"""GitHub checks for ``scribe doctor``: token, repository, labels, leads and rate limit.

Each check makes at most a couple of read-only calls (``GET /rate_limit`` does not count against
the primary rate limit) and says what to do when something is wrong.
"""

from __future__ import annotations

from ...checks import Check

import time
from typing import Any

from ...config import Config
from ...records import CATEGORIES
from ...store import Store
from .client import GitHubClient, GitHubError
from .labels import label_spec, usable
from .publisher import GitHubPublisher, silent_drops, unassignable_leads

TOKEN_HELP = ("create a fine-grained personal access token with repository access to {repo} and "
              "the permissions 'Issues: read and write' and 'Metadata: read' (or a classic token "
              "with the 'repo' scope), and put it in SCRIBE_GITHUB_TOKEN")




def github_checks(config: Config, store: Store | None = None, *,
                  publisher: GitHubPublisher | None = None, create_labels: bool = False,
                  timeout: float = 20.0) -> list[Check]:
    """Check that postmortem-scribe can open and maintain issues in the configured repository.

    ``create_labels`` creates the missing labels (with colour and description) instead of only
    listing them.  Never raises.
    """
    repo = config.github_repo
    if not repo:
        return [Check("github", False, "no repository configured; set SCRIBE_GITHUB_REPO=owner/name",
                      warning=True)]
    checks = [Check("github", True, f"{repo} via {config.github_api_url}")]
    if not config.github_token:
        checks.append(Check("github token", False, "no token. " + TOKEN_HELP.format(repo=repo)))
        return checks
    try:
        publisher = publisher or GitHubPublisher.from_config(config)
        client = publisher.client
    except Exception as exc:  # noqa: BLE001
        checks.append(Check("github client", False, f"could not be set up: {type(exc).__name__}"))
        return checks
    deadline = time.monotonic() + timeout

    # 1. Token and rate limit, in one call that costs no rate limit.
    token_ok = _token_and_rate_limit(client, repo, deadline, checks)
    if token_ok is False:
        return checks

    # 2. Repository reachable and issues enabled.
    try:
        client.get(client.repo_path("/issues"), params={"state": "all", "per_page": 1},
                   deadline=deadline)
        checks.append(Check("github repository", True, f"{repo} is reachable and has issues enabled"))
    except GitHubError as err:
        checks.append(Check("github repository", False, _repo_problem(err, repo, config)))
        return checks

    # 3. Labels.
    checks.append(_labels_check(client, config, publisher, deadline, create_labels))

    # 4. Leads.
    leads = _leads(config, store, repo)
    if not leads:
        checks.append(Check("github leads", False, "no lead configured (SCRIBE_LEAD or [[routes]] "
                            "lead); issues are opened unassigned", warning=True))
    for login in leads:
        checks.append(_lead_check(client, login, repo, deadline))

    # 5. Anything this process saw GitHub drop silently.
    drops = silent_drops(repo)
    if drops:
        checks.append(Check("github push access", False, drops[-1] + "; give the token's user write "
                            "access so labels and assignees stick", warning=True))

    # 6. What waits for GitHub, and why.
    if store is not None:
        checks.extend(_outbox_check(store))
    return checks


# ---------------------------------------------------------------------- checks


def _token_and_rate_limit(client: GitHubClient, repo: str, deadline: float,
                          checks: list[Check]) -> bool | None:
    """True/False when the token's validity is known; None when it could not be told."""
    try:
        response = client.get("/rate_limit", deadline=deadline)
    except GitHubError as err:
        if err.kind == "auth":
            checks.append(Check("github token", False, "rejected by GitHub (401: expired, revoked "
                                "or mistyped). " + TOKEN_HELP.format(repo=repo)))
            return False
        if err.kind == "not_found":
            # GitHub Enterprise Server with rate limiting disabled answers 404 here.
            checks.append(Check("github rate limit", True, "rate limiting is not enabled on this "
                                "server"))
            return None
        checks.append(Check("github token", False, f"could not be checked: {err.message}"))
        return False
    scopes = response.headers.get("x-oauth-scopes")
    detail = "accepted"
    if scopes is not None:
        detail += f" (classic token; scopes: {scopes or 'none'})"
        if scopes and "repo" not in {s.strip() for s in scopes.split(",")} and \
                "public_repo" not in scopes:
            detail += "; it needs the 'repo' scope to open issues in private repositories"
    checks.append(Check("github token", True, detail))
    checks.append(_rate_check(response.data))
    return True


def _rate_check(data: Any) -> Check:
    core = (data or {}).get("resources", {}).get("core") or (data or {}).get("rate") or {}
    remaining, limit, reset = core.get("remaining"), core.get("limit"), core.get("reset")
    if not isinstance(remaining, int) or not isinstance(limit, int):
        return Check("github rate limit", True, "not reported by the server")
    when = time.strftime("%H:%M UTC", time.gmtime(reset)) if isinstance(reset, (int, float)) else "?"
    detail = f"{remaining} of {limit} requests left this hour (resets {when})"
    if remaining == 0:
        return Check("github rate limit", False, detail + "; deliveries wait until the reset")
    low = remaining < max(50, limit // 10)
    return Check("github rate limit", not low, detail + ("; running low" if low else ""), warning=low)


def _repo_problem(err: GitHubError, repo: str, config: Config) -> str:
    if err.kind == "not_found":
        return (f"{repo} was not found at {config.github_api_url}, or the token cannot see it; check "
                "SCRIBE_GITHUB_REPO (owner/name), SCRIBE_GITHUB_API_URL for GitHub Enterprise "
                "Server, and the token's repository access")
    if err.kind == "gone":
        return f"issues are disabled in {repo}; enable them under Settings > General > Features"
    if err.kind == "auth":
        return "the token was rejected (401). " + TOKEN_HELP.format(repo=repo)
    return err.message


def wanted_labels(config: Config) -> list[str]:
    """Every label our issues may carry with this configuration."""
    names = [*config.labels, *CATEGORIES, "regression", "possible-repeat", "repeat-failure"]
    for route in config.routes:
        names.extend(route.labels)
    return [n for n in dict.fromkeys(n.strip() for n in names if n and n.strip())]


def _labels_check(client: GitHubClient, config: Config, publisher: GitHubPublisher,
                  deadline: float, create: bool) -> Check:
    try:
        present = {str(item.get("name", "")).lower()
                   for item in client.paginate(client.repo_path("/labels"), {"per_page": 100},
                                               deadline=deadline, max_pages=10)
                   if isinstance(item, dict)}
    except GitHubError as err:
        return Check("github labels", False, f"could not list labels: {err.message}")
    wanted = wanted_labels(config)
    too_long = [n for n in wanted if not usable(n)]
    missing = [n for n in wanted if usable(n) and n.lower() not in present]
    if create and missing:
        # Writes are paced (one a second); give each label its own slice of time.
        deadline = max(deadline, time.monotonic() + len(missing) * (client.write_interval + 5.0))
        created, failed = [], []
        for name in missing:
            spec = label_spec(name)
            try:
                client.request("POST", client.repo_path("/labels"), deadline=deadline,
                               json={"name": spec.name, "color": spec.color,
                                     "description": spec.description}, expect=(201,))
                created.append(name)
            except GitHubError as err:
                failed.append(f"{name} ({err.message})")
        if failed:
            return Check("github labels", False, "could not create: " + "; ".join(failed))
        return Check("github labels", True, f"created {', '.join(created)}")
    if too_long:
        return Check("github labels", False, f"longer than 50 characters, GitHub refuses them: "
                     f"{', '.join(too_long)}")
    if missing:
        return Check("github labels", False, f"missing {', '.join(missing)}; they are created with "
                     "colour and description on first use",
                     warning=True)
    return Check("github labels", True, f"all {len(wanted)} present ({', '.join(wanted[:4])}, ...)")


def _leads(config: Config, store: Store | None, repo: str) -> list[str]:
    leads = [config.default_lead, *(route.lead for route in config.routes)]
    leads.extend(sorted(unassignable_leads(repo)))
    if store is not None:
        try:
            leads.extend(row.lead for row in store.incidents(status="open", limit=200))
        except Exception:  # noqa: BLE001 - the store has its own check
            pass
    return [lead for lead in dict.fromkeys((lead or "").strip().lstrip("@") for lead in leads) if lead]


def _lead_check(client: GitHubClient, login: str, repo: str, deadline: float) -> Check:
    name = f"github lead {login}"
    try:
        response = client.get(client.repo_path(f"/assignees/{login}"), deadline=deadline,
                              expect=(204, 404))
    except GitHubError as err:
        return Check(name, False, f"could not be checked: {err.message}")
    if response.status == 204:
        return Check(name, True, "can be assigned")
    return Check(name, False, f"cannot be assigned issues in {repo} (GitHub answered 404); issues are "
                 "opened unassigned and name them in the body. Give them write access to the "
                 "repository, or route to someone who has it")


def _outbox_check(store: Store) -> list[Check]:
    try:
        waiting = store.outbox_messages(status="pending")
        failed = store.outbox_messages(status="failed")
    except Exception:  # noqa: BLE001 - the store has its own check
        return []
    if not waiting and not failed:
        return []
    last = next((m.get("last_error") for m in reversed(failed + waiting) if m.get("last_error")), None)
    detail = f"{len(waiting)} waiting, {len(failed)} failed"
    if last:
        detail += f"; last error: {last}"
    return [Check("github deliveries", not failed, detail, warning=not failed)]
