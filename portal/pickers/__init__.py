"""Search-as-you-type pickers (issue 19, item 3): a person, group, resource or attribute chosen in a form.

- ``registry``: the pickers, each with the rights that let a user search it (any one of them) and its search.
- ``catalogue``: the pickers of the console and the review screens (people, reviewers, groups, resources,
  attribute names).
- ``views``: ``/pickers/<name>/?q=…``, the one JSON endpoint (403 without the picker's rights).
- ``widgets``: form widgets that render the ordinary field (it works and posts the same values without
  JavaScript) with the data attributes ``static/js/pickers.js`` turns into an ARIA combobox.
"""
