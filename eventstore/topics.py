"""Stored names are schema: the topic of every stored event, aggregate and snapshot, pinned.

A topic (``module:QualName``) is written into every stored event, into a ``Created`` event's
``originator_topic`` and into a snapshot's state, and resolved again on every load. This table
is the only place those names live: moving or renaming a class keeps its old name here (added
beside the new one), and ``pin_topics`` registers each old name with the library, so that
stored events never lose their class. A unit test makes a new event class add its row.
"""

from __future__ import annotations

from eventsourcing.domain import Snapshot
from eventsourcing.utils import construct_topic, register_topic

from domain.chatroom import ChatRoom
from domain.conversation import Conversation
from domain.job import Job
from domain.rule import Rule
from domain.testdocument import TestDocument
from domain.testtake import TestTake
from domain.uploadsession import UploadSession
from domain.usercredits import UserCredits

TOPICS: dict[str, type] = {
    "eventsourcing.domain:Snapshot": Snapshot,
    "domain.usercredits:UserCredits": UserCredits,
    "domain.usercredits:UserCredits.Created": UserCredits.Created,
    "domain.usercredits:UserCredits.Granted": UserCredits.Granted,
    "domain.usercredits:UserCredits.PlanChanged": UserCredits.PlanChanged,
    "domain.usercredits:UserCredits.Reserved": UserCredits.Reserved,
    "domain.usercredits:UserCredits.Committed": UserCredits.Committed,
    "domain.usercredits:UserCredits.RolledBack": UserCredits.RolledBack,
    "domain.usercredits:UserCredits.RuleSlotTaken": UserCredits.RuleSlotTaken,
    "domain.usercredits:UserCredits.RuleSlotFreed": UserCredits.RuleSlotFreed,
    "domain.usercredits:UserCredits.QuotaUsed": UserCredits.QuotaUsed,
    "domain.job:Job": Job,
    "domain.job:Job.Created": Job.Created,
    "domain.job:Job.UploadConfirmed": Job.UploadConfirmed,
    "domain.job:Job.Queued": Job.Queued,
    "domain.job:Job.Started": Job.Started,
    "domain.job:Job.ItemSucceeded": Job.ItemSucceeded,
    "domain.job:Job.ItemFailed": Job.ItemFailed,
    "domain.job:Job.Finished": Job.Finished,
    "domain.job:Job.Stalled": Job.Stalled,
    "domain.job:Job.Canceled": Job.Canceled,
    "domain.rule:Rule": Rule,
    "domain.rule:Rule.Created": Rule.Created,
    "domain.rule:Rule.Updated": Rule.Updated,
    "domain.rule:Rule.Deleted": Rule.Deleted,
    "domain.testdocument:TestDocument": TestDocument,
    "domain.testdocument:TestDocument.Created": TestDocument.Created,
    "domain.testdocument:TestDocument.Saved": TestDocument.Saved,
    "domain.testdocument:TestDocument.ImageAttached": TestDocument.ImageAttached,
    "domain.testdocument:TestDocument.Published": TestDocument.Published,
    "domain.testdocument:TestDocument.Unpublished": TestDocument.Unpublished,
    "domain.testdocument:TestDocument.Deleted": TestDocument.Deleted,
    "domain.testtake:TestTake": TestTake,
    "domain.testtake:TestTake.Created": TestTake.Created,
    "domain.chatroom:ChatRoom": ChatRoom,
    "domain.chatroom:ChatRoom.Created": ChatRoom.Created,
    "domain.chatroom:ChatRoom.Joined": ChatRoom.Joined,
    "domain.chatroom:ChatRoom.Left": ChatRoom.Left,
    "domain.chatroom:ChatRoom.Posted": ChatRoom.Posted,
    "domain.chatroom:ChatRoom.Edited": ChatRoom.Edited,
    "domain.chatroom:ChatRoom.Deleted": ChatRoom.Deleted,
    "domain.chatroom:ChatRoom.AssistantReplied": ChatRoom.AssistantReplied,
    "domain.chatroom:ChatRoom.Closed": ChatRoom.Closed,
    "domain.uploadsession:UploadSession": UploadSession,
    "domain.uploadsession:UploadSession.Created": UploadSession.Created,
    "domain.uploadsession:UploadSession.PartReceived": UploadSession.PartReceived,
    "domain.uploadsession:UploadSession.Completed": UploadSession.Completed,
    "domain.uploadsession:UploadSession.Attached": UploadSession.Attached,
    "domain.uploadsession:UploadSession.AttachedToMessage": UploadSession.AttachedToMessage,
    "domain.uploadsession:UploadSession.Rejected": UploadSession.Rejected,
    "domain.uploadsession:UploadSession.Aborted": UploadSession.Aborted,
    "domain.uploadsession:UploadSession.Expired": UploadSession.Expired,
    "domain.conversation:Conversation": Conversation,
    "domain.conversation:Conversation.Created": Conversation.Created,
    "domain.conversation:Conversation.SettingsChanged": Conversation.SettingsChanged,
    "domain.conversation:Conversation.UserAsked": Conversation.UserAsked,
    "domain.conversation:Conversation.AssistantReplied": Conversation.AssistantReplied,
    "domain.conversation:Conversation.Summarised": Conversation.Summarised,
}


def moved_topics() -> dict[str, type]:
    """The pinned names that no longer match where their class lives."""
    return {topic: cls for topic, cls in TOPICS.items() if construct_topic(cls) != topic}


def pin_topics() -> None:
    """Register every moved name with the library; registering twice changes nothing."""
    for topic, cls in moved_topics().items():
        register_topic(topic, cls)


pin_topics()  # on import: whoever opens the application has imported this module
