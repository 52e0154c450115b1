"""vango-actors: server-driven web pages on trio."""

from __future__ import annotations

from .actor import Attachment as Attachment
from .actor import SessionStatistics as SessionStatistics
from .component import Component as Component
from .component import RenderError as RenderError
from .component import SessionInfo as SessionInfo
from .config import Settings as Settings
from .dom import Document as Document
from .dom import PatchError as PatchError
from .errors import VangoError as VangoError
from .lifecycle import SessionState as SessionState
from .live import ConnectionClosed as ConnectionClosed
from .live import LiveSettings as LiveSettings
from .live import LiveStats as LiveStats
from .live import Transport as Transport
from .manager import CreatedSession as CreatedSession
from .manager import ManagerStatistics as ManagerStatistics
from .manager import RuntimeClosed as RuntimeClosed
from .manager import RuntimeConfig as RuntimeConfig
from .manager import SessionLimitReached as SessionLimitReached
from .manager import SessionManager as SessionManager
from .manager import SessionNotFound as SessionNotFound
from .manager import open_runtime as open_runtime
from .protocol import Event as Event
from .protocol import Limits as Limits
from .protocol import ProtocolError as ProtocolError
from .routing import BaseMiddleware as BaseMiddleware
from .routing import live_page as live_page
from .routing import page as page
from .scheduler import TaskHandle as TaskHandle
from .supervisor import Escalation as Escalation
from .supervisor import MountError as MountError
from .supervisor import RestartPolicy as RestartPolicy
from .tokens import BadToken as BadToken
from .tokens import TokenClaims as TokenClaims
from .tokens import TokenSigner as TokenSigner
from .vdom import Element as Element
from .vdom import Lazy as Lazy
from .vdom import Raw as Raw
from .vdom import Text as Text
from .vdom import h as h

__version__ = "0.1.0"
