"""The consultation desk (在线咨询): periods on duty, expert presence, consultations and their routing."""
