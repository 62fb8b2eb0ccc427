"""The security lessons: short texts written for this product's people, each with a few questions.

Lessons are code (reviewed, translated through gettext like every page), not tenant data: a tenant chooses
which lessons it requires before which rights (``training.models.TrainingRequirement``). A lesson is passed
when every question is answered right and the user attests they will follow it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Question:
    """A question, its choices and the index of the right one."""

    text: str
    choices: tuple[str, ...]
    answer: int


@dataclass(frozen=True)
class Lesson:
    """A lesson: who it is for, its paragraphs and its questions."""

    key: str
    audience: str
    title: str
    paragraphs: tuple[str, ...]
    questions: tuple[Question, ...]


ADMINISTRATORS = "administrators"
CUSTOMERS = "customers"
AUDIENCES = {ADMINISTRATORS: _("For administrators"), CUSTOMERS: _("For customers")}

LESSONS: tuple[Lesson, ...] = (
    Lesson(
        key="least-privilege",
        audience=ADMINISTRATORS,
        title=_("Least privilege"),
        paragraphs=(
            _(
                "Give each person the smallest set of rights that lets them do their work, for the shortest "
                "time. In Portcullis, prefer a grant on one resource to a grant on a whole module, and give "
                "every grant that is not permanent an expiry."
            ),
            _(
                "Before you grant, open the user's page and read why they can already do what they can: a role, "
                "a group or an earlier grant may already cover the need. Grant to a group only when every member "
                "needs the access; the preview shows who gains what."
            ),
            _(
                "Access reviews exist to take back what is no longer used. When you review, revoke what the "
                "evidence shows as unused or rare unless the owner tells you why it is still needed."
            ),
        ),
        questions=(
            Question(
                _("A customer needs to read one report for a week. What do you grant?"),
                (
                    _("Reports: view on the whole module, without expiry"),
                    _("View on that one report, expiring in seven days"),
                    _("The Advanced user role"),
                ),
                1,
            ),
            Question(
                _("Before granting, what should you check first?"),
                (
                    _("Whether a role, group or grant already gives the access"),
                    _("Whether the customer has asked twice"),
                    _("Nothing: grants can always be revoked later"),
                ),
                0,
            ),
        ),
    ),
    Lesson(
        key="four-eyes",
        audience=ADMINISTRATORS,
        title=_("Four eyes and separation of duties"),
        paragraphs=(
            _(
                "Some changes need a second administrator: anything that gives console rights, and exceptions to "
                "separation-of-duties rules. The second administrator must read the change and its reason, not "
                "approve by habit: approving means you take responsibility for it too."
            ),
            _(
                "Separation-of-duties rules name combinations nobody should hold at once, such as creating and "
                "approving the same payments. Portcullis refuses a change that would create one; when the rule "
                "allows exceptions, it asks for a justification and a second administrator."
            ),
            _(
                "Never ask a colleague to approve your change outside the portal, and never share an account to "
                "get around the rule: the audit trail records who requested and who approved every change."
            ),
        ),
        questions=(
            Question(
                _("A colleague asks you to approve their change quickly, without a reason. What do you do?"),
                (
                    _("Approve it: they are trusted"),
                    _("Read the change, ask for the reason, and approve only what you would do yourself"),
                    _("Log in as them and approve it"),
                ),
                1,
            ),
            Question(
                _("A grant is refused by a separation-of-duties rule that allows no exception. What now?"),
                (
                    _("Remove the other right first, or ask the rule's owner whether the rule is right"),
                    _("Grant it through a group instead"),
                    _("Grant it to a second account of the same person"),
                ),
                0,
            ),
        ),
    ),
    Lesson(
        key="phishing-mfa",
        audience=ADMINISTRATORS,
        title=_("Phishing and multi-factor authentication"),
        paragraphs=(
            _(
                "Attackers want administrator accounts. They send messages that look like the portal or a "
                "colleague and ask you to log in through a link, to read out a code or to approve a change. "
                "Always open the portal from your own bookmark and check the address before you type a password."
            ),
            _(
                "Your authenticator code and backup codes are yours alone: no colleague, support person or "
                "operator will ever ask for them. If someone does, stop, and report it to your security contact."
            ),
            _(
                "If you think your password or codes were seen, change the password, regenerate the backup "
                "codes and end your other sessions from the Security page, then tell an administrator."
            ),
        ),
        questions=(
            Question(
                _("Someone on the phone says they are from support and asks for your six-digit code. You:"),
                (
                    _("Read it out: it changes every 30 seconds anyway"),
                    _("Refuse, hang up and report it"),
                    _("Send it by e-mail instead"),
                ),
                1,
            ),
            Question(
                _("How should you open the portal?"),
                (
                    _("From the link in any e-mail that mentions it"),
                    _("From your own bookmark, checking the address"),
                    _("From a search engine's first result"),
                ),
                1,
            ),
        ),
    ),
    Lesson(
        key="protect-account",
        audience=CUSTOMERS,
        title=_("Protecting your account"),
        paragraphs=(
            _(
                "Your account opens your company's data in this portal. Use a long password that you use nowhere "
                "else (a password manager helps), and turn on the authenticator app on the Security page."
            ),
            _(
                "Keep your backup codes somewhere safe and offline. Never share your account: ask for your own "
                "access instead, from the Access requests page, so that each person is accountable for their own "
                "actions."
            ),
            _(
                "Log out on shared computers, and look at your active sessions on the Security page from time to "
                "time: end any session you do not recognise and change your password."
            ),
        ),
        questions=(
            Question(
                _("A colleague needs the same reports as you. What should happen?"),
                (
                    _("You share your password with them"),
                    _("They ask for their own access through an access request"),
                    _("You export the reports and send them by e-mail"),
                ),
                1,
            ),
            Question(
                _("You see a session you do not recognise. You:"),
                (
                    _("End it and change your password"),
                    _("Ignore it"),
                    _("Wait to see if it happens again"),
                ),
                0,
            ),
        ),
    ),
    Lesson(
        key="report-something-wrong",
        audience=CUSTOMERS,
        title=_("When you see something you should not"),
        paragraphs=(
            _(
                "Sometimes a mistake gives you access to data that is not meant for you: another company's "
                "records, sensitive fields, a module you never asked for. Do not open more of it, do not "
                "download or share it."
            ),
            _(
                "Tell the administrators of this portal at once: what you saw, where, and when. You can also "
                "look at My access to see which grant gives you the access and ask for it to be removed."
            ),
            _(
                "Reporting is always the right thing to do: you will not be blamed for a mistake in someone "
                "else's configuration, and it protects you and the people whose data it is."
            ),
        ),
        questions=(
            Question(
                _("You can see another company's orders. What do you do first?"),
                (
                    _("Download them to show the administrators"),
                    _("Stop, and report what you saw, where and when"),
                    _("Nothing: it is their mistake"),
                ),
                1,
            ),
            Question(
                _("Where can you see why you have an access?"),
                (_("On the My access page"), _("Nowhere"), _("Only by asking a colleague")),
                0,
            ),
        ),
    ),
)

BY_KEY = {lesson.key: lesson for lesson in LESSONS}
CHOICES = [(lesson.key, lesson.title) for lesson in LESSONS]


def get(key: str) -> Lesson | None:
    """The lesson of ``key`` (None when there is none)."""
    return BY_KEY.get(key)
