"""Demo-data builders of the city 海滨市 (people, bureaus, the consultation desk), apart from domain code."""
