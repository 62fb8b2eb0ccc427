"""Console forms. Every choice of a role, user, group, module or resource comes from the tenant-scoped
managers, so an id of another tenant in a POST is an invalid choice (AZ-2); fields a client must not set
(tenant, owner, staff flags) are simply not fields (AZ-4)."""
