"""Pages of the live consultation desk (在线咨询). Presentation only: desk selectors to read, one service per form.

- ``deputy``     the deputy's desk: bureaus with experts online, the start form (点将 optional), my consultations
- ``room``       the chat room of one consultation, and the one POST endpoint of its actions (end, transfer,
                 outcome, rating); ``static/frontend/chat.js`` runs the chat socket
- ``workbench``  the expert's workbench (咨询工作台): presence, active consultations, the bureau's queue
- ``office``     the office's live figures (咨询统计) and the form that opens a consultation period
- ``forms``      the forms, named after the keyword arguments of the service each one feeds
- ``common``     who is asking, which consultation they may see, unread counts
"""
