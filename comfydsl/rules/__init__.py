"""Every rule: `codes` is the one table (code, name, family, class); the classes are grouped
by family in `syntax`, `references`, `inputs`, `links`, `values`, `models`, `structure`,
plus `recipe` (rules of the `.comfy` front end) and `worker` (what a worker answered).
The reading rules (CD001-CD004) are defined with the reader, `comfydsl.workflow.document`.

Adding a rule: see docs/lint.md, "Adding a rule".
"""
