"""The input stage: the vocabulary, the schemas of the doctrine and of scenario files, the hardened YAML reader,
loading and the JSON Schema.
"""
