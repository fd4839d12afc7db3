"""Tree-sitter queries that find definitions, per language.

Each pattern captures the definition node as ``@def.<kind>`` and its name as ``@name``. Kinds: function, method,
class, interface, enum, impl, module, namespace, type, constant, variable, field, macro. A function nested in a
class-like definition becomes a method when extracted; attributes a constructor assigns (``self.x = ...`` in
``__init__``, ``this.x = ...`` and parameter properties in a ``constructor``) become fields of its class. When two patterns match the same node, the first one wins,
so specific patterns come before general ones. Imports are found by node type (see ``languages.py``) and parsed
from their text in ``imports.py``.
"""

from __future__ import annotations

PYTHON = """
(function_definition name: (identifier) @name) @def.function
(class_definition name: (identifier) @name) @def.class
(module (assignment left: (identifier) @name) @def.variable)
(class_definition body: (block (assignment left: (identifier) @name) @def.field))
((function_definition name: (identifier) @ctor body: (block (assignment left: (attribute object: (identifier) @obj
  attribute: (identifier) @name)) @def.field)) (#eq? @ctor "__init__") (#eq? @obj "self"))
"""

_JS_COMMON = """
(function_declaration name: (identifier) @name) @def.function
(generator_function_declaration name: (identifier) @name) @def.function
(method_definition name: (_) @name) @def.method
(variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression)]) @def.function
(program (lexical_declaration (variable_declarator name: (identifier) @name) @def.variable))
(program (variable_declaration (variable_declarator name: (identifier) @name) @def.variable))
(program (export_statement (lexical_declaration (variable_declarator name: (identifier) @name) @def.variable)))
((method_definition name: (property_identifier) @ctor body: (statement_block (expression_statement
  (assignment_expression left: (member_expression object: (this) property: (property_identifier) @name)) @def.field)))
  (#eq? @ctor "constructor"))
"""

JAVASCRIPT = (
    _JS_COMMON
    + """
(class_declaration name: (identifier) @name) @def.class
(field_definition property: (property_identifier) @name) @def.field
"""
)

TYPESCRIPT = (
    _JS_COMMON
    + """
(class_declaration name: (_) @name) @def.class
(abstract_class_declaration name: (_) @name) @def.class
(interface_declaration name: (_) @name) @def.interface
(type_alias_declaration name: (_) @name) @def.type
(enum_declaration name: (_) @name) @def.enum
(function_signature name: (identifier) @name) @def.function
(method_signature name: (_) @name) @def.method
(abstract_method_signature name: (_) @name) @def.method
(public_field_definition name: (_) @name) @def.field
(property_signature name: (_) @name) @def.field
((method_definition name: (property_identifier) @ctor parameters: (formal_parameters
  (required_parameter (accessibility_modifier) pattern: (identifier) @name) @def.field)) (#eq? @ctor "constructor"))
(internal_module name: (_) @name) @def.namespace
"""
)

GO = """
(function_declaration name: (identifier) @name) @def.function
(method_declaration name: (field_identifier) @name) @def.method
(type_spec name: (type_identifier) @name type: (struct_type)) @def.class
(type_spec name: (type_identifier) @name type: (interface_type)) @def.interface
(type_spec name: (type_identifier) @name) @def.type
(type_alias name: (type_identifier) @name) @def.type
(method_elem name: (field_identifier) @name) @def.method
(field_declaration name: (field_identifier) @name) @def.field
(const_spec name: (identifier) @name) @def.constant
(source_file (var_declaration (var_spec name: (identifier) @name) @def.variable))
"""

RUST = """
(function_item name: (identifier) @name) @def.function
(function_signature_item name: (identifier) @name) @def.function
(struct_item name: (type_identifier) @name) @def.class
(union_item name: (type_identifier) @name) @def.class
(enum_item name: (type_identifier) @name) @def.enum
(trait_item name: (type_identifier) @name) @def.interface
(impl_item type: (_) @name) @def.impl
(const_item name: (identifier) @name) @def.constant
(static_item name: (identifier) @name) @def.constant
(type_item name: (type_identifier) @name) @def.type
(macro_definition name: (identifier) @name) @def.macro
(mod_item name: (identifier) @name body: (_)) @def.namespace
(field_declaration name: (field_identifier) @name) @def.field
"""

JAVA = """
(class_declaration name: (identifier) @name) @def.class
(record_declaration name: (identifier) @name) @def.class
(interface_declaration name: (identifier) @name) @def.interface
(annotation_type_declaration name: (identifier) @name) @def.interface
(enum_declaration name: (identifier) @name) @def.enum
(method_declaration name: (identifier) @name) @def.method
(constructor_declaration name: (identifier) @name) @def.method
(field_declaration declarator: (variable_declarator name: (identifier) @name)) @def.field
(constant_declaration declarator: (variable_declarator name: (identifier) @name)) @def.constant
"""

C = """
(function_definition declarator: (function_declarator declarator: (identifier) @name)) @def.function
(function_definition declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))) @def.function
(translation_unit (declaration declarator: (function_declarator declarator: (identifier) @name)) @def.function)
(translation_unit (declaration declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))) @def.function)
(struct_specifier name: (type_identifier) @name body: (_)) @def.class
(union_specifier name: (type_identifier) @name body: (_)) @def.class
(enum_specifier name: (type_identifier) @name body: (_)) @def.enum
(type_definition declarator: (type_identifier) @name) @def.type
(preproc_def name: (identifier) @name) @def.constant
(preproc_function_def name: (identifier) @name) @def.macro
(translation_unit (declaration declarator: (init_declarator declarator: (identifier) @name)) @def.variable)
"""

CPP = """
(function_definition declarator: (function_declarator declarator: (_) @name)) @def.function
(function_definition declarator: (pointer_declarator declarator: (function_declarator declarator: (_) @name))) @def.function
(function_definition declarator: (reference_declarator (function_declarator declarator: (_) @name))) @def.function
(field_declaration declarator: (function_declarator declarator: (_) @name)) @def.method
(declaration declarator: (function_declarator declarator: (_) @name)) @def.function
(class_specifier name: (_) @name body: (_)) @def.class
(struct_specifier name: (_) @name body: (_)) @def.class
(union_specifier name: (_) @name body: (_)) @def.class
(enum_specifier name: (_) @name body: (_)) @def.enum
(namespace_definition name: (_) @name) @def.namespace
(alias_declaration name: (type_identifier) @name) @def.type
(type_definition declarator: (type_identifier) @name) @def.type
(field_declaration declarator: (field_identifier) @name) @def.field
(preproc_def name: (identifier) @name) @def.constant
(preproc_function_def name: (identifier) @name) @def.macro
"""

CSHARP = """
(class_declaration name: (identifier) @name) @def.class
(struct_declaration name: (identifier) @name) @def.class
(record_declaration name: (identifier) @name) @def.class
(interface_declaration name: (identifier) @name) @def.interface
(enum_declaration name: (identifier) @name) @def.enum
(method_declaration name: (identifier) @name) @def.method
(constructor_declaration name: (identifier) @name) @def.method
(property_declaration name: (identifier) @name) @def.field
(field_declaration (variable_declaration (variable_declarator name: (identifier) @name))) @def.field
(delegate_declaration name: (identifier) @name) @def.type
(namespace_declaration name: (_) @name) @def.namespace
"""

RUBY = """
(method name: (_) @name) @def.function
(singleton_method name: (_) @name) @def.method
(class name: (_) @name) @def.class
(module name: (_) @name) @def.module
(assignment left: (constant) @name) @def.constant
"""

PHP = """
(function_definition name: (name) @name) @def.function
(method_declaration name: (name) @name) @def.method
(class_declaration name: (name) @name) @def.class
(interface_declaration name: (name) @name) @def.interface
(trait_declaration name: (name) @name) @def.class
(enum_declaration name: (name) @name) @def.enum
(const_element (name) @name) @def.constant
"""

KOTLIN = """
(function_declaration (simple_identifier) @name) @def.function
(class_declaration (type_identifier) @name) @def.class
(object_declaration (type_identifier) @name) @def.class
(type_alias (type_identifier) @name) @def.type
(source_file (property_declaration (variable_declaration (simple_identifier) @name)) @def.variable)
"""

SCALA = """
(function_definition name: (identifier) @name) @def.function
(function_declaration name: (identifier) @name) @def.function
(class_definition name: (identifier) @name) @def.class
(object_definition name: (identifier) @name) @def.class
(trait_definition name: (identifier) @name) @def.interface
(type_definition name: (type_identifier) @name) @def.type
(val_definition pattern: (identifier) @name) @def.constant
"""

LUA = """
(function_declaration name: (identifier) @name) @def.function
(function_declaration name: (dot_index_expression field: (identifier) @name)) @def.function
(function_declaration name: (method_index_expression method: (identifier) @name)) @def.method
"""

SWIFT = """
(function_declaration name: (simple_identifier) @name) @def.function
(protocol_function_declaration name: (simple_identifier) @name) @def.method
(class_declaration name: (type_identifier) @name) @def.class
(protocol_declaration name: (type_identifier) @name) @def.interface
(typealias_declaration name: (type_identifier) @name) @def.type
"""

BASH = """
(function_definition name: (word) @name) @def.function
"""

# Imports: each pattern captures the whole import statement as ``@import``; ``imports.py`` parses its text.
IMPORTS = {
    "python": "[(import_statement) (import_from_statement)] @import",
    "javascript": """
(import_statement) @import
(export_statement source: (string)) @import
((call_expression function: (identifier) @f arguments: (arguments . (string))) @import (#eq? @f "require"))
""",
    "go": "(import_spec) @import",
    "rust": "(use_declaration) @import (mod_item !body) @import",
    "java": "(import_declaration) @import",
    "c": "(preproc_include) @import",
    "csharp": "(using_directive) @import",
    "ruby": """((call method: (identifier) @f) @import (#match? @f "^(require|require_relative|load)$"))""",
    "php": """
(namespace_use_declaration) @import
[(require_expression) (require_once_expression) (include_expression) (include_once_expression)] @import
""",
    "kotlin": "(import_header) @import",
    "scala": "(import_declaration) @import",
    "lua": """((function_call name: (identifier) @f) @import (#eq? @f "require"))""",
    "swift": "(import_declaration) @import",
    "bash": """((command name: (command_name) @f) @import (#match? @f "^(source|\\\\.)$"))""",
}
IMPORTS["typescript"] = IMPORTS["javascript"]
IMPORTS["cpp"] = IMPORTS["c"]
