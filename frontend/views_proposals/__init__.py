"""Pages of the proposal cycle. Presentation only: selectors to read, ``proposals.services`` to write.

- ``deputy``         my proposals, new draft, draft edit
- ``detail``         the proposal page (what each role sees and may do), attachment download
- ``act``            the one POST endpoint of every action on a proposal (``registry`` lists them)
- ``handling``       the handler's work queue (办理工作台)
- ``office``         registration (立案) and assignment (交办) desks, with bulk actions
- ``supervision``    supervision desk (督办)
- ``statistics``     statistics (办理统计): charts, tables, the CSV and Excel links
- ``notifications``  the notification list
"""
