"""`notify`: tell each owner their share of a night, the data team the digest, and chat the summary.

Every message is first written as an `.eml` file under `OUT/<tenant>/notifications/<night>/`, so what
would be sent can be read before anything is; only with `confirm` does anything leave the machine, and
then under the ledger's lock (nobody hears twice about one night unless `force`). A delivery problem is an
outcome with exit code 9, never an exception that stops the other messages; reports are never touched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from claret_errors.config import Settings
from claret_errors.errors import ConfigError, ExitCode, UsageError
from claret_errors.files.atomic import atomic_write_bytes, atomic_write_text
from claret_errors.notify import ledger as notify_ledger
from claret_errors.notify import smtp as smtp_send
from claret_errors.notify.compose import DIGEST, Night, Notice, chat_text, digest_notice, owner_notice
from claret_errors.notify.contacts import Contacts, load_contacts
from claret_errors.notify.shares import night_jobs
from claret_errors.notify.webhook import payload, post
from claret_errors.redact import redact

FOLDER = "notifications"


@dataclass(frozen=True)
class Outcome:
    """What became of one message or post: written (not sent), sent, skipped, unknown or failed."""

    key: str
    recipients: tuple[str, ...]
    file: Path | None
    state: str  # "written", "sent", "already sent", "outcome unknown", "failed", "no address"
    detail: str = ""
    rows_to_fix: int = 0
    server_down: bool = False

    @property
    def failed(self) -> bool:
        """Whether this one counts against the run: someone who should hear did not, or may not have."""
        return self.state in ("failed", "no address", "outcome unknown") or (
            self.state == "sent" and bool(self.detail)
        )


@dataclass(frozen=True)
class NotifyResult:
    """The night, where its messages were written, and what became of each."""

    tenant: str
    night: str
    folder: Path
    confirmed: bool
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """9 when any owner, digest reader or chat did not (or may not) get their message, else 0."""
        return int(ExitCode.NOT_DELIVERED if any(o.failed for o in self.outcomes) else ExitCode.OK)

    def summary(self) -> dict[str, object]:
        """What `--json` prints."""
        return {
            "tenant": self.tenant,
            "night": self.night,
            "folder": str(self.folder),
            "confirmed": self.confirmed,
            "exit_code": self.exit_code,
            "messages": [
                {
                    "key": o.key,
                    "recipients": list(o.recipients),
                    "file": str(o.file) if o.file else None,
                    "state": o.state,
                    "detail": o.detail,
                    "rows_to_fix": o.rows_to_fix,
                }
                for o in self.outcomes
            ],
        }


def _eml_name(key: str) -> str:
    # Owner names are plain (letters, digits, . _ -) by the owners file's own rule.
    return ("digest" if key == DIGEST else key.replace("owner:", "owner-")) + ".eml"


def _notices(night: Night, contacts: Contacts) -> tuple[list[Notice], list[Outcome]]:
    """A notice per owner with rows and an address, the digest, and the owners nobody can reach."""
    notices: list[Notice] = []
    unreachable: list[Outcome] = []
    owners = list(dict.fromkeys(owner for job in night.jobs for owner in job.owners()))
    for owner in owners:
        to = contacts.owners.get(owner, ())
        if not to:
            share_rows = sum(job.share(owner).to_fix_rows for job in night.jobs)
            unreachable.append(
                Outcome(
                    f"owner:{owner}",
                    (),
                    None,
                    "no address",
                    f"no address for {owner} in the owners file's [contacts]",
                    share_rows,
                )
            )
            continue
        notice = owner_notice(night, owner, to)
        if notice is not None:
            notices.append(notice)
    if contacts.digest:
        notices.append(digest_notice(night, contacts.digest, owners))
    return notices, unreachable


def notify(
    paths: list[Path],
    settings: Settings,
    *,
    confirm: bool = False,
    force: bool = False,
    night: str | None = None,
) -> NotifyResult:
    """Write (and with `confirm`, send) the night's messages for the jobs in `paths` (job or run folders)."""
    contacts = load_contacts(settings.owners)
    if contacts.empty:
        raise UsageError(
            "nobody to notify: give an owners file (--owners or CLARET_OWNERS) with a [contacts] table, "
            "a [digest] or a [[webhook]]"
        )
    chosen, jobs = night_jobs(paths, night)
    tenants = sorted({job.tenant for job in jobs})
    if len(tenants) > 1:
        raise UsageError(f"jobs of several tenants ({', '.join(tenants)}): notify one tenant at a time")
    if confirm and (contacts.owners or contacts.digest) and settings.smtp is None:
        raise ConfigError("no [smtp] table in the config file: where should the e-mail go?", key="smtp")
    if confirm and settings.smtp is not None:
        smtp_send.check(settings.smtp, settings.smtp_password)
    sender = settings.smtp.sender if settings.smtp else "claret-errors@localhost"
    the_night = Night(tenants[0], chosen, jobs, sender, settings.attachment_limit)
    folder = jobs[0].folder.parent / FOLDER / chosen
    notices, outcomes = _notices(the_night, contacts)

    written: dict[str, Path] = {}
    for notice in notices:
        path = folder / _eml_name(notice.key)
        atomic_write_bytes(path, notice.message.as_bytes())
        written[notice.key] = path
    text = chat_text(the_night)
    for hook in contacts.webhooks:
        path = folder / f"chat-{hook.key.replace('[', '-').rstrip(']')}.json"
        atomic_write_text(path, redact(json.dumps(payload(hook, text), indent=2, ensure_ascii=False)))
        written[hook.key] = path

    if not confirm:
        outcomes += [
            Outcome(n.key, n.recipients, written[n.key], "written", "", n.rows_to_fix) for n in notices
        ]
        outcomes += [Outcome(h.key, (), written[h.key], "written") for h in contacts.webhooks]
        return NotifyResult(tenants[0], chosen, folder, False, outcomes)

    with notify_ledger.locked(jobs[0].folder.parent) as book:
        down: str | None = None
        for notice in notices:
            if down is not None:
                # One dead server is enough waiting: the rest stay unsent (and unrecorded) for the next run.
                outcomes.append(
                    Outcome(
                        notice.key, notice.recipients, written[notice.key], "failed", down, notice.rows_to_fix
                    )
                )
                continue
            outcome = _deliver_mail(notice, book, chosen, settings, written[notice.key], force)
            outcomes.append(outcome)
            if outcome.state == "failed" and outcome.server_down:
                down = f"not tried: the SMTP server failed on {notice.key} ({outcome.detail})"
        for hook in contacts.webhooks:
            state = book.state(chosen, hook.key)
            if state is not None and state != "failed" and not force:
                outcomes.append(_skipped(hook.key, (), written[hook.key], state))
                continue
            book.mark(chosen, hook.key, "sending", ())
            posted = post(hook, text, ca_file=str(settings.ca_bundle) if settings.ca_bundle else None)
            book.mark(chosen, hook.key, "failed" if posted.error else "sent", ())
            outcomes.append(
                Outcome(
                    hook.key, (), written[hook.key], "failed" if posted.error else "sent", posted.error or ""
                )
            )
    return NotifyResult(tenants[0], chosen, folder, True, outcomes)


def _skipped(key: str, to: tuple[str, ...], path: Path, state: str) -> Outcome:
    if state == "sent":
        return Outcome(key, to, path, "already sent", "sent before for this night; --force sends it again")
    return Outcome(
        key,
        to,
        path,
        "outcome unknown",
        "an earlier run was interrupted while sending it: check the recipients' inbox, "
        "then --force to send again",
    )


def _deliver_mail(
    notice: Notice, book: notify_ledger.Ledger, night: str, settings: Settings, path: Path, force: bool
) -> Outcome:
    state = book.state(night, notice.key)
    if state is not None and state != "failed" and not force:
        return _skipped(notice.key, notice.recipients, path, state)
    if settings.smtp is None:  # pragma: no cover - notify() refuses to confirm without [smtp]
        raise ConfigError("no [smtp] table", key="smtp")
    book.mark(night, notice.key, "sending", notice.recipients)
    delivery = smtp_send.send(
        settings.smtp,
        settings.smtp_password,
        notice.key,
        notice.message,
        notice.recipients,
        ca_file=str(settings.ca_bundle) if settings.ca_bundle else None,
    )
    if delivery.error is not None:
        book.mark(night, notice.key, "failed", notice.recipients)
        return Outcome(
            notice.key,
            notice.recipients,
            path,
            "failed",
            delivery.error,
            notice.rows_to_fix,
            delivery.server_down,
        )
    book.mark(night, notice.key, "sent", delivery.accepted)
    refused = "; ".join(f"{addr} refused: {why}" for addr, why in delivery.refused.items())
    return Outcome(notice.key, delivery.accepted, path, "sent", refused, notice.rows_to_fix)
