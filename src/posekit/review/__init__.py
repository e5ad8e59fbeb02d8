"""Web review of poses: a local page where people check and correct skeletons frame by frame.

Modules: :mod:`.project` (video/image folder + poses), :mod:`.store` (SQLite edit store),
:mod:`.service` (edits on the project), :mod:`.export` (corrected COCO/posekit JSON),
:mod:`.server` (FastAPI app and runner). FastAPI and uvicorn are imported only when serving.
"""

from .export import export_review
from .project import ReviewProject, open_project
from .service import BadEdit, ReviewService
from .store import Conflict, EditStore

__all__ = ["ReviewProject", "open_project", "EditStore", "Conflict", "ReviewService", "BadEdit", "export_review"]
