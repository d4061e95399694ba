"""Repositories: one per aggregate, the only code that touches TinyDB."""

from bot.repos.bundle import Repos
from bot.repos.events import EventRepo
from bot.repos.outreach import OutreachRepo
from bot.repos.subscribers import SubscriberRepo
from bot.repos.tasks import TaskNotFound, TaskRepo

__all__ = ["EventRepo", "OutreachRepo", "Repos", "SubscriberRepo", "TaskNotFound", "TaskRepo"]
