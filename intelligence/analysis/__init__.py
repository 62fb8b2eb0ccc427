"""The analysis core: pure functions over a users × rights Boolean matrix (numpy, scipy.sparse).

Nothing here reads the database or knows a tenant: ``intelligence.tenant_matrix`` builds the matrix
from a tenant's rows, ``intelligence.synthetic`` builds one with a planted answer, and both feed the
same functions (``peers``, ``mining``, ``rightsizing``, ``anomalies``).
"""

ALGORITHM_VERSION = "2026.12-1"
