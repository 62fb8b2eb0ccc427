"""Import and export of users, organisations, roles and grants (Portcullis CSV/JSON, Zoho CRM, Salesforce,
Fxiaoke): files → rows → a plan checked against the tenant → a dry run or one audited transaction through the
permission services. docs/integration.md."""
