"""Movement analysis on pose sequences: joint angles, centre of mass, exercises, gait, falls and reports.

Every function works on a :class:`~posekit.poses.PoseSequence` of any skeleton that names the joints it
needs (``left_hip``, ``right_knee``, … — BlazePose-33, COCO-17, Penn Action's ``penn13`` and the other
registered layouts), looked up by name. Measurements that drive decisions use trusted keypoints only
(VISIBLE or CORRECTED): never occlusion or tracker guesses.

* :mod:`~posekit.analysis.kinematics` — joint angles 2D/3D (flexion 0° = straight, unwrapped), segment
  angles, angular velocity, range of motion, symmetry index.
* :mod:`~posekit.analysis.com` — centre of mass from de Leva (1996) segment parameters, base of support.
* :mod:`~posekit.analysis.exercises` — repetitions (squat, push-up, lunge, jumping jack, sit-up,
  pull-up), per-rep metrics and form feedback, plank timer, exercise recognition.
* :mod:`~posekit.analysis.gait` — heel strike / toe off, cadence, step and stride times, stance/swing,
  step length, speed, asymmetry.
* :mod:`~posekit.analysis.falls` — falls with time, person and confidence.
* :mod:`~posekit.analysis.report` — :func:`analyze`, ``summary.json``, HTML report, annotated video.
* :mod:`~posekit.analysis.synthetic` — synthetic motions with known answers.
"""

from __future__ import annotations

from .com import DE_LEVA_1996, BaseOfSupport, CenterOfMass, center_of_mass, com_over_feet
from .exercises import (
    EXERCISES,
    SPECS,
    CounterConfig,
    ExerciseResult,
    ExerciseSpec,
    FormRule,
    PlankResult,
    Recognition,
    Rep,
    RepCounter,
    RepEvent,
    count_reps,
    estimate_view,
    exercise_signal,
    exercise_spec,
    plank_hold,
    recognize_exercise,
)
from .falls import FallConfig, FallEvent, FallResult, detect_falls
from .gait import GaitEvents, GaitResult, analyze_gait, gait_events, gait_parameters
from .kinematics import (
    RangeOfMotion,
    angle_summary,
    angular_velocity,
    flexion_angle,
    joint_angles,
    range_of_motion,
    segment_angle,
    signed_flexion_2d,
    symmetry_index,
    trunk_angle,
    unwrap_degrees,
)
from .report import Analysis, analyze, prepare, write_html, write_overlay, write_summary

__all__ = [
    "DE_LEVA_1996", "BaseOfSupport", "CenterOfMass", "center_of_mass", "com_over_feet",
    "EXERCISES", "SPECS", "CounterConfig", "ExerciseResult", "ExerciseSpec", "FormRule", "PlankResult",
    "Recognition", "Rep", "RepCounter", "RepEvent", "count_reps", "estimate_view", "exercise_signal",
    "exercise_spec", "plank_hold", "recognize_exercise",
    "FallConfig", "FallEvent", "FallResult", "detect_falls",
    "GaitEvents", "GaitResult", "analyze_gait", "gait_events", "gait_parameters",
    "RangeOfMotion", "angle_summary", "angular_velocity", "flexion_angle", "joint_angles", "range_of_motion",
    "segment_angle", "signed_flexion_2d", "symmetry_index", "trunk_angle", "unwrap_degrees",
    "Analysis", "analyze", "prepare", "write_html", "write_overlay", "write_summary",
]  # fmt: skip
