"""Models of the eoi area: exercises and their parts (exercise.py), submissions (submission.py), opening (opening.py)."""
from eoi.models.exercise import (Acknowledgement, Addendum, ClusterSubscription, Clarification, DeadlineIncident,  # noqa: F401
                                 Exercise, ExerciseDocument, InterestRegistration, Invitation, LateAttempt, PriceItem,
                                 Section, ServiceCluster, exercise_clusters, minimum_closing_after_addendum)
from eoi.models.opening import Opening, OpeningKey, OpeningKeyShare, OpeningOfficer  # noqa: F401
from eoi.models.submission import Answer, PriceLine, Submission, SubmissionFile, SubmissionVersion  # noqa: F401
