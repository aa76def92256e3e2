"""One mall for a class: a PostgreSQL server, and processes sharing one shop on it.

- :mod:`~mallbots.classroom.server`: where the server comes from (the class's, named by
  ``MALLBOTS_POSTGRES_URL``, or a throwaway one on this machine);
- :mod:`~mallbots.classroom.students`: processes started from a notebook, each with a
  shop of its own on the shared log;
- :mod:`~mallbots.classroom.race`: why the log's positions come from a counter, not a
  plain sequence (writers in several processes and a tailing reader).

Notebook 10 (``notebooks/10_one_mall_for_the_class.ipynb``) drives all three.
"""

from mallbots.classroom.server import CLASS_URL, ClassServer, why_no_server
from mallbots.classroom.students import Classroom, Student

__all__ = ["CLASS_URL", "ClassServer", "Classroom", "Student", "why_no_server"]
