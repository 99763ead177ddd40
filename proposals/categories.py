"""Subject categories of proposals (as the demo city's office files them)."""

CATEGORIES = [
    "经济发展",
    "营商环境",
    "科技创新",
    "城市建设",
    "交通",
    "生态环境",
    "教育",
    "医疗卫生",
    "养老",
    "民生保障",
    "社会治理",
    "公共安全",
    "文化旅游",
    "农业农村",
]
