/*
 * ast.h — the syntax tree of a .dl file, as the parser builds it.
 *
 * The tree is deliberately generic: a file is a list of items (param, model, train, block); items
 * hold statements; statements hold expressions (numbers, strings, names, calls with positional
 * and named arguments, lists, arithmetic). Meaning — which calls are layers, which settings a
 * train block accepts — is given by lowering (frontend/lower.c), not by the grammar, so new
 * layers, losses and settings never touch the parser. Everything lives in the compilation's
 * arena. Every node records the source span that produced it.
 */
#ifndef DLC_AST_H
#define DLC_AST_H
#include "../support/arena.h"
#include "../support/diag.h"

/* Structural limits (docs/language.md, "Limits"), enforced while parsing so that every walk
 * over a tree (dumping, lowering, evaluating a param) recurses at most AST_MAX_DEPTH deep. */
enum {
    AST_MAX_DEPTH = 1000,   /* an expression's depth: 1 for a name or number, 1 + its deepest
                               operand for an operator, call or list (x + x + x: 3) */
    AST_MAX_BRACKETS = 256, /* '(', '[' and '{' open at once */
    AST_MAX_PENDING = 10000 /* the parser's stack: tokens shifted and not yet reduced */
};

typedef enum ast_expr_kind {
    AST_NUM,   /* numeric literal: num (is_int says if written without '.'/exponent) */
    AST_STR,   /* string literal: str (quotes removed, no escapes beyond \" and \\) */
    AST_NAME,  /* identifier: str */
    AST_CALL,  /* str(args...): callee name in str, args in args/n_args */
    AST_LIST,  /* [a, b, ...]: elements in args (all positional) */
    AST_BINOP, /* lhs op rhs, op one of + - * / */
    AST_NEG,   /* -lhs */
} ast_expr_kind;

typedef struct ast_expr ast_expr;

typedef struct ast_arg {
    const char *name; /* keyword name for `name = value`, NULL when positional */
    src_loc name_loc; /* span of the keyword (valid when name != NULL) */
    ast_expr *value;  /* the argument's value */
} ast_arg;

struct ast_expr {
    ast_expr_kind kind; /* which fields below are meaningful */
    src_loc loc;        /* span of the whole expression (for calls: the callee name) */
    double num;         /* AST_NUM value */
    int is_int;         /* AST_NUM written as an integer literal */
    const char *str;    /* AST_STR text, AST_NAME identifier, AST_CALL callee */
    char op;            /* AST_BINOP operator character */
    ast_expr *lhs;      /* AST_BINOP left operand, AST_NEG operand */
    ast_expr *rhs;      /* AST_BINOP right operand */
    ast_arg *args;      /* AST_CALL arguments / AST_LIST elements */
    int n_args;         /* number of entries in args */
    int depth;          /* 1 + the deepest operand's depth (see AST_MAX_DEPTH) */
};

typedef struct ast_type {
    const char *dtype; /* element type name as written: "f32", "i32", ... */
    src_loc loc;       /* span of the dtype name */
    ast_expr **dims;   /* per-sample dimensions (batch is implicit); expressions */
    int rank;          /* number of dims; 0 for a per-sample scalar: i32[] */
} ast_type;

typedef enum ast_stmt_kind {
    AST_STMT_INPUT,  /* input NAME: TYPE */
    AST_STMT_ASSIGN, /* NAME = EXPR (in models: a value; in train blocks: a setting) */
    AST_STMT_RETURN, /* return EXPR (a block's result; name is NULL, loc the keyword) */
    AST_STMT_SECTION, /* KIND LABEL { stmts } inside a body (a train block's `step d { ... }`):
                         name is KIND as written, label and body below; which kinds exist is
                         lowering's business, so the words stay free as names elsewhere */
} ast_stmt_kind;

typedef struct ast_stmt {
    ast_stmt_kind kind; /* which of the forms above */
    const char *name;   /* bound name / setting key */
    src_loc loc;        /* span of the name */
    ast_expr *value;    /* AST_STMT_ASSIGN right-hand side */
    ast_type type;      /* AST_STMT_INPUT declared type */
    const char *label;  /* AST_STMT_SECTION: its name (`step discriminator`: "discriminator") */
    src_loc label_loc;  /* AST_STMT_SECTION: span of the label */
    struct ast_stmt *body; /* AST_STMT_SECTION: its statements */
    int n_body;         /* AST_STMT_SECTION: entries of body */
} ast_stmt;

typedef enum ast_item_kind {
    AST_ITEM_PARAM, /* param NAME = EXPR : a hyperparameter, overridable with -D NAME=VALUE */
    AST_ITEM_MODEL, /* model NAME { stmts } */
    AST_ITEM_TRAIN, /* train NAME { settings } : NAME is the model trained */
    AST_ITEM_BLOCK, /* block NAME(params) { stmts; return EXPR } */
} ast_item_kind;

typedef struct ast_item {
    ast_item_kind kind; /* which of the forms above */
    const char *name;   /* param/model name, or the model a train block trains */
    src_loc loc;        /* span of the keyword */
    src_loc name_loc;   /* span of the name */
    ast_expr *value;    /* AST_ITEM_PARAM value */
    ast_stmt *stmts;    /* model statements / train settings */
    int n_stmts;        /* number of entries in stmts */
    ast_arg *params;    /* AST_ITEM_BLOCK parameters: name, default value (NULL: required) */
    int n_params;       /* number of entries in params */
} ast_item;

typedef struct ast_file {
    ast_item *items; /* in source order */
    int n_items;     /* number of items */
} ast_file;

/* Parse `src` (NUL-terminated text of `d->file`). Syntax errors go to `d`; returns NULL when
 * there were any (after reporting all that the parser could recover from). */
ast_file *parse_file(const char *src, arena *a, diag *d);

/* Debug/golden helper: print the tree in a stable indented form. */
void ast_dump(const ast_file *f, FILE *out);

#endif
