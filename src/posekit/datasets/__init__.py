"""Readers for pose ground truth and predictions, returning posekit objects.

Every reader takes an explicit layout (never guessed from a keypoint count), maps the dataset's
visibility flags onto :class:`~posekit.poses.KeypointState` (MISSING keypoints hold NaN, never (0, 0)) and
raises :class:`~posekit.errors.InputError` naming the file and the field for malformed input. Layouts and
conversion tables are registered in :mod:`posekit.skeletons`.

=========================  ============================================  ===========================
data                       reader                                        returns
=========================  ============================================  ===========================
COCO keypoints             :func:`read_coco_keypoints`                   ``CocoDataset`` (frames)
CrowdPose / AIC / MHP      :func:`read_crowdpose`, :func:`read_aic`,     ``CocoDataset``
                           :func:`read_mhp`
MPII (mmpose json)         :func:`read_mpii`                             ``CocoDataset``
PoseTrack18 / JHMDB        :func:`read_posetrack18`, :func:`read_jhmdb`  ``CocoDataset`` with track
                           (+ :func:`to_sequences`)                      ids (``PoseSequence`` per video)
Penn Action ``.mat``       :func:`read_penn_clip`, :func:`read_penn_index`, ``PennClip`` (``PoseSequence``)
                           :func:`iter_penn_clips`
Human3.6M / MPI-INF-3DHP   :func:`read_h36m_npz`, :func:`read_h36m_cameras`, ``Body3DSample`` list,
                           :func:`read_h36m_coco`, :func:`read_3dhp_npz`  ``Camera`` dict
CMU Panoptic 3D            :func:`read_panoptic_body3d`,                 ``PoseSequence``, cameras
                           :func:`read_panoptic_calibration`
hands                      :func:`read_freihand`, :func:`read_onehand10k`, ``CocoDataset`` (``hand21``)
                           :func:`read_panoptic_hands`, :func:`read_rhd`,
                           :func:`read_interhand`
faces                      :func:`read_face_coco`, :func:`read_pts`       ``CocoDataset``/``PoseFrame``
predictions                :func:`read_predictions`, :func:`align_to_gt`  posekit objects
=========================  ============================================  ===========================
"""

from posekit.io.coco import CocoDataset

from .body2d import read_aic, read_crowdpose, read_mhp, read_mpii
from .cameras import Camera
from .coco import Predictions, align_to_gt, read_coco_keypoints, read_predictions
from .faces import FACE_DATASETS, NME_NORM_INDICES, read_face_coco, read_pts
from .h36m import (
    Body3DSample,
    read_3dhp_cameras,
    read_3dhp_npz,
    read_body3d_npz,
    read_h36m_cameras,
    read_h36m_coco,
    read_h36m_npz,
)
from .hands import (
    read_freihand,
    read_interhand,
    read_interhand_cameras,
    read_onehand10k,
    read_panoptic_hands,
    read_rhd,
)
from .layouts import DERIVED_MIDPOINTS, convert, derive_midpoints
from .panoptic import panoptic_fps, read_panoptic_body3d, read_panoptic_calibration
from .penn import (
    PENN_ASSUMED_FPS,
    PennClip,
    PennIndexEntry,
    iter_penn_clips,
    read_penn_clip,
    read_penn_index,
)
from .posetrack import POSETRACK_ASSUMED_FPS, read_jhmdb, read_posetrack18, to_sequences, track_ids, video_frames

__all__ = [
    "Body3DSample",
    "Camera",
    "CocoDataset",
    "DERIVED_MIDPOINTS",
    "FACE_DATASETS",
    "NME_NORM_INDICES",
    "PENN_ASSUMED_FPS",
    "POSETRACK_ASSUMED_FPS",
    "PennClip",
    "PennIndexEntry",
    "Predictions",
    "align_to_gt",
    "convert",
    "derive_midpoints",
    "iter_penn_clips",
    "panoptic_fps",
    "read_3dhp_cameras",
    "read_3dhp_npz",
    "read_aic",
    "read_body3d_npz",
    "read_coco_keypoints",
    "read_crowdpose",
    "read_face_coco",
    "read_freihand",
    "read_h36m_cameras",
    "read_h36m_coco",
    "read_h36m_npz",
    "read_interhand",
    "read_interhand_cameras",
    "read_jhmdb",
    "read_mhp",
    "read_mpii",
    "read_onehand10k",
    "read_panoptic_body3d",
    "read_panoptic_calibration",
    "read_panoptic_hands",
    "read_penn_clip",
    "read_penn_index",
    "read_posetrack18",
    "read_predictions",
    "read_pts",
    "read_rhd",
    "to_sequences",
    "track_ids",
    "video_frames",
]
