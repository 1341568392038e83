/*
 * parse.y — the grammar of .dl files (LALR, bison), building the tree of ast.h, plus
 * parse_file() and syntax-error reporting.
 *
 * Reentrant: all state lives in a parse_ctx (shared with the flex scanner in lex.l), so any
 * number of files can be parsed in one process (concurrently too, each with its own arena and
 * diag).
 *
 * Error messages name tokens as the user wrote them ("unexpected identifier 'logits';
 * expected ')'"), computed with %define parse.error custom and LAC so that the expected set is
 * exact. Recovery works with the scanner (see dlylex in lex.l): `error SYNC` rules at statement
 * and item level, where SYNC is a virtual token the scanner inserts before the next place a
 * statement or item can start (a name at the start of a line inside a block, a '}', a
 * param/model/train keyword, end of file). The mid-rule action after `error` runs as soon as
 * the parser has shifted it, before it throws the offending lookahead away and asks the scanner
 * for more: that is how the scanner knows to look for a SYNC point.
 */

%define api.prefix {dly}
%define api.pure full
%define api.token.prefix {TOK_}
%define api.location.type {dl_span}
%define parse.error custom
%define parse.lac full
%locations
%param {void *scanner}
%parse-param {parse_ctx *ctx}

%code requires {
#include "ast.h"

/* A source span: start line/col (1-based), end line/col (exclusive), byte offsets [off, end). */
typedef struct dl_span {
    int line, col;
    int end_line, end_col;
    int off, end;
} dl_span;

typedef struct dl_number {
    double value; /* the literal's value */
    int is_int;   /* written as plain digits */
} dl_number;

typedef struct arg_vec {
    ast_arg *v; /* arena array */
    int n, cap; /* used / allocated entries */
} arg_vec;

typedef struct stmt_vec {
    ast_stmt *v; /* arena array */
    int n, cap;  /* used / allocated entries */
} stmt_vec;

typedef struct parse_ctx parse_ctx;
}

%code provides {
/* A token as the scanner produced it, kept for replaying after error recovery. */
typedef struct dl_token {
    int kind;       /* TOK_* */
    DLYSTYPE val;   /* semantic value */
    DLYLTYPE loc;   /* its span */
    int at_bol;     /* first token on its line */
} dl_token;

typedef struct dl_bracket {
    int kind;     /* TOK_LPAREN, TOK_LBRACK or TOK_LBRACE */
    DLYLTYPE loc; /* where it was opened */
    int indent;   /* column of the first token on that line */
} dl_bracket;

enum { DL_QUEUE_MAX = 3 };

/* Everything one parse needs; the scanner reaches it as its "extra" data. */
struct parse_ctx {
    const char *src;   /* the text being parsed */
    arena *a;          /* where the tree goes */
    diag *d;           /* where errors go */
    ast_file *file;    /* the tree being built */
    int cap_items;     /* allocated entries in file->items */
    int in_block;      /* the parser is inside a model/train body */
    /* scanner position */
    int line, col, off;   /* next character to scan */
    int tok_on_line;      /* a token has been seen on the current line */
    int raw_at_bol;       /* the token just scanned is the first on its line */
    int line_indent;      /* column of the first token on the current line */
    DLYLTYPE last_end;    /* span of the last real token (end of file is reported after it) */
    /* brackets open so far (lexically), for "to match this '('" notes */
    dl_bracket *open;
    int n_open, cap_open;
    /* error recovery (see dlylex) */
    dl_token last;        /* the token dlylex returned last */
    int want_sync;        /* the parser has shifted `error`, threw `last` away, waits for SYNC */
    int sync_fresh;       /* the SYNC was placed before a token after the rejected one */
    int replayed_off;     /* offset of the last token replayed after a SYNC */
    dl_token queue[DL_QUEUE_MAX]; /* tokens to return before scanning more */
    int n_queue, i_queue;
    /* limits (ast.h) */
    int too_deep;         /* an expression deeper than AST_MAX_DEPTH was reported */
    int stopped;          /* brackets nested past AST_MAX_BRACKETS: reported, the scanner
                             ends the file there and the parser says nothing more */
};

int dlylex(DLYSTYPE *lval, DLYLTYPE *lloc, void *scanner);
/* Runs the scanner and parser over ctx->src; returns yyparse's result. (lex.l) */
int lex_scan_and_parse(parse_ctx *ctx);
/* The diagnostic location of a span (clipped to its first line). */
src_loc parse_src_loc(const parse_ctx *ctx, DLYLTYPE span);
}

%code {
#include <string.h>

#define YYMAXDEPTH AST_MAX_PENDING

/* Spans of nonterminals run from the first symbol's start to the last symbol's end; an empty
 * rule gets an empty span at the end of what precedes it. */
#define YYLLOC_DEFAULT(Cur, Rhs, N)                                      \
    do {                                                                 \
        if (N) {                                                         \
            (Cur).line = YYRHSLOC(Rhs, 1).line;                          \
            (Cur).col = YYRHSLOC(Rhs, 1).col;                            \
            (Cur).off = YYRHSLOC(Rhs, 1).off;                            \
            (Cur).end_line = YYRHSLOC(Rhs, N).end_line;                  \
            (Cur).end_col = YYRHSLOC(Rhs, N).end_col;                    \
            (Cur).end = YYRHSLOC(Rhs, N).end;                            \
        } else {                                                         \
            (Cur).line = (Cur).end_line = YYRHSLOC(Rhs, 0).end_line;     \
            (Cur).col = (Cur).end_col = YYRHSLOC(Rhs, 0).end_col;        \
            (Cur).off = (Cur).end = YYRHSLOC(Rhs, 0).end;                \
        }                                                                \
    } while (0)

static void dlyerror(DLYLTYPE *loc, void *scanner, parse_ctx *ctx, const char *msg);
static ast_expr *new_expr(parse_ctx *ctx, ast_expr_kind kind, DLYLTYPE loc);
static ast_expr *new_binop(parse_ctx *ctx, char op, ast_expr *lhs, ast_expr *rhs, DLYLTYPE loc);
static ast_expr *new_neg(parse_ctx *ctx, ast_expr *operand, DLYLTYPE loc, DLYLTYPE minus);
static ast_expr *new_call(parse_ctx *ctx, const char *name, DLYLTYPE loc, arg_vec args);
static ast_expr *new_list(parse_ctx *ctx, DLYLTYPE loc, arg_vec elems);
static void push_arg(parse_ctx *ctx, arg_vec *v, const char *name, DLYLTYPE name_loc,
                     ast_expr *value);
static void push_stmt(parse_ctx *ctx, stmt_vec *v, const ast_stmt *s);
static ast_stmt *new_assign(parse_ctx *ctx, const char *name, DLYLTYPE loc, ast_expr *value);
static ast_stmt *new_input(parse_ctx *ctx, const char *name, DLYLTYPE loc, const ast_type *t);
static ast_stmt *new_section(parse_ctx *ctx, const char *kind, DLYLTYPE loc, const char *label,
                             DLYLTYPE label_loc, stmt_vec body);
static ast_type *new_type(parse_ctx *ctx, const char *dtype, DLYLTYPE loc, arg_vec dims);
static void add_item(parse_ctx *ctx, const ast_item *it);
static void add_param(parse_ctx *ctx, DLYLTYPE kw, const char *name, DLYLTYPE name_loc,
                      ast_expr *value);
static void add_block(parse_ctx *ctx, ast_item_kind kind, DLYLTYPE kw, const char *name,
                      DLYLTYPE name_loc, stmt_vec body);
static void set_block_params(parse_ctx *ctx, arg_vec params);
}

%union {
    const char *str;    /* IDENT, STRING: arena text */
    dl_number num;      /* NUMBER */
    int kind;           /* block_kw: AST_ITEM_MODEL or AST_ITEM_TRAIN */
    ast_expr *expr;
    arg_vec args;       /* call arguments, list elements, type dimensions */
    ast_type *type;
    ast_stmt *stmt;     /* NULL for a statement skipped by error recovery */
    stmt_vec stmts;
}

%token <str> IDENT "identifier"
%token <num> NUMBER "number"
%token <str> STRING "string"
%token KW_PARAM "'param'" KW_MODEL "'model'" KW_TRAIN "'train'" KW_INPUT "'input'"
%token KW_BLOCK "'block'" KW_RETURN "'return'"
%token LPAREN "'('" RPAREN "')'" LBRACK "'['" RBRACK "']'" LBRACE "'{'" RBRACE "'}'"
%token COMMA "','" EQ "'='" COLON "':'" SEMI "';'"
%token PLUS "'+'" MINUS "'-'" STAR "'*'" SLASH "'/'"
%token SYNC "end of skipped text"

%type <kind> block_kw
%type <expr> expr primary
%type <args> elems expr_list args arg_list block_params block_param_list
%type <type> type
%type <stmt> stmt
%type <stmts> stmts

%left PLUS MINUS
%left STAR SLASH
%precedence NEG

%%

file
    : items
    ;

items
    : %empty
    | items item
    ;

item
    : KW_PARAM IDENT EQ expr opt_semi       { add_param(ctx, @1, $2, @2, $4); }
    | block_kw IDENT lbrace stmts RBRACE    { add_block(ctx, $1, @1, $2, @2, $4);
                                              ctx->in_block = 0; }
    | KW_BLOCK IDENT LPAREN block_params RPAREN lbrace stmts RBRACE
                                            { add_block(ctx, AST_ITEM_BLOCK, @1, $2, @2, $7);
                                              set_block_params(ctx, $4);
                                              ctx->in_block = 0; }
    | error { ctx->want_sync = 1; } SYNC    { if (ctx->sync_fresh) yyerrok; }
    ;

block_kw
    : KW_MODEL  { $$ = AST_ITEM_MODEL; }
    | KW_TRAIN  { $$ = AST_ITEM_TRAIN; }
    ;

lbrace
    : LBRACE    { ctx->in_block = 1; }
    ;

stmts
    : %empty        { $$ = (stmt_vec){0}; }
    | stmts stmt    { $$ = $1; if ($2) push_stmt(ctx, &$$, $2); }
    ;

stmt
    : KW_INPUT IDENT COLON type opt_semi    { $$ = new_input(ctx, $2, @2, $4); }
    | IDENT EQ expr opt_semi                { $$ = new_assign(ctx, $1, @1, $3); }
    | KW_RETURN expr opt_semi               { $$ = new_assign(ctx, NULL, @1, $2);
                                              $$->kind = AST_STMT_RETURN; }
    | IDENT IDENT LBRACE stmts RBRACE opt_semi { $$ = new_section(ctx, $1, @1, $2, @2, $4); }
    | error { ctx->want_sync = 1; } SYNC    { $$ = NULL; if (ctx->sync_fresh) yyerrok; }
    ;

block_params
    : %empty                        { $$ = (arg_vec){0}; }
    | block_param_list opt_comma
    ;

block_param_list
    : IDENT                         { $$ = (arg_vec){0}; push_arg(ctx, &$$, $1, @1, NULL); }
    | IDENT EQ expr                 { $$ = (arg_vec){0}; push_arg(ctx, &$$, $1, @1, $3); }
    | block_param_list COMMA IDENT  { $$ = $1; push_arg(ctx, &$$, $3, @3, NULL); }
    | block_param_list COMMA IDENT EQ expr { $$ = $1; push_arg(ctx, &$$, $3, @3, $5); }
    ;

opt_semi
    : %empty
    | SEMI
    ;

type
    : IDENT LBRACK RBRACK           { $$ = new_type(ctx, $1, @1, (arg_vec){0}); }
    | IDENT LBRACK elems RBRACK     { $$ = new_type(ctx, $1, @1, $3); }
    ;

expr
    : expr PLUS expr            { $$ = new_binop(ctx, '+', $1, $3, @$); }
    | expr MINUS expr           { $$ = new_binop(ctx, '-', $1, $3, @$); }
    | expr STAR expr            { $$ = new_binop(ctx, '*', $1, $3, @$); }
    | expr SLASH expr           { $$ = new_binop(ctx, '/', $1, $3, @$); }
    | MINUS expr %prec NEG      { $$ = new_neg(ctx, $2, @$, @1); }
    | primary
    ;

primary
    : NUMBER                    { $$ = new_expr(ctx, AST_NUM, @1);
                                  $$->num = $1.value; $$->is_int = $1.is_int; }
    | STRING                    { $$ = new_expr(ctx, AST_STR, @1); $$->str = $1; }
    | IDENT                     { $$ = new_expr(ctx, AST_NAME, @1); $$->str = $1; }
    | IDENT LPAREN args RPAREN  { $$ = new_call(ctx, $1, @1, $3); }
    | LBRACK RBRACK             { $$ = new_list(ctx, @$, (arg_vec){0}); }
    | LBRACK elems RBRACK       { $$ = new_list(ctx, @$, $2); }
    | LPAREN expr RPAREN        { $$ = $2; }
    ;

elems
    : expr_list opt_comma
    ;

expr_list
    : expr                      { $$ = (arg_vec){0}; push_arg(ctx, &$$, NULL, @1, $1); }
    | expr_list COMMA expr      { $$ = $1; push_arg(ctx, &$$, NULL, @3, $3); }
    ;

args
    : %empty                    { $$ = (arg_vec){0}; }
    | arg_list opt_comma
    ;

arg_list
    : expr                          { $$ = (arg_vec){0}; push_arg(ctx, &$$, NULL, @1, $1); }
    | IDENT EQ expr                 { $$ = (arg_vec){0}; push_arg(ctx, &$$, $1, @1, $3); }
    | arg_list COMMA expr           { $$ = $1; push_arg(ctx, &$$, NULL, @3, $3); }
    | arg_list COMMA IDENT EQ expr  { $$ = $1; push_arg(ctx, &$$, $3, @3, $5); }
    ;

opt_comma
    : %empty
    | COMMA
    ;

%%

/* ---- locations ---- */

src_loc parse_src_loc(const parse_ctx *ctx, DLYLTYPE span) {
    src_loc l = {span.line, span.col, 1};
    if (span.end_line == span.line) {
        l.len = span.end_col - span.col;
    } else {
        size_t rest = strcspn(ctx->src + span.off, "\r\n");
        l.len = rest > 1 ? (int)rest : 1;
    }
    if (l.len < 1) l.len = 1;
    return l;
}

/* ---- syntax error messages ---- */

enum { DESCRIBE_MAX = 48 }; /* longest token text quoted in a message */

/* "identifier 'x'", "number '5'", "keyword 'model'", "')'", "end of file". */
static void describe_token(const parse_ctx *ctx, yysymbol_kind_t tok, const DLYLTYPE *loc,
                           char *buf, size_t size) {
    int n = loc->end - loc->off;
    const char *dots = "";
    if (n > DESCRIBE_MAX) {
        n = DESCRIBE_MAX;
        dots = "...";
    }
    const char *text = ctx->src + loc->off;
    switch (tok) {
    case YYSYMBOL_IDENT: snprintf(buf, size, "identifier '%.*s%s'", n, text, dots); break;
    case YYSYMBOL_NUMBER: snprintf(buf, size, "number '%.*s%s'", n, text, dots); break;
    case YYSYMBOL_STRING: snprintf(buf, size, "string %.*s%s", n, text, dots); break;
    case YYSYMBOL_KW_PARAM: case YYSYMBOL_KW_MODEL: case YYSYMBOL_KW_TRAIN:
    case YYSYMBOL_KW_INPUT: case YYSYMBOL_KW_BLOCK: case YYSYMBOL_KW_RETURN:
        snprintf(buf, size, "keyword %s", yysymbol_name(tok));
        break;
    default: snprintf(buf, size, "%s", yysymbol_name(tok)); break;
    }
}

static int is_block_end(yysymbol_kind_t tok) {
    return tok == YYSYMBOL_YYEOF || tok == YYSYMBOL_KW_PARAM || tok == YYSYMBOL_KW_MODEL ||
           tok == YYSYMBOL_KW_TRAIN || tok == YYSYMBOL_KW_BLOCK;
}

/* Narrow the exact expected set to what a person would call "expected": the innermost
 * closing bracket when one is possible, otherwise the set without tokens that would merely
 * continue what came before (operators, '(' of a call, ';'). */
static void narrow_expected(yysymbol_kind_t tok, int *have) {
    if (have[YYSYMBOL_RPAREN] || have[YYSYMBOL_RBRACK]) {
        for (int k = 0; k < YYNTOKENS; k++)
            have[k] = have[k] && (k == YYSYMBOL_RPAREN || k == YYSYMBOL_RBRACK);
        return;
    }
    if (have[YYSYMBOL_RBRACE] && is_block_end(tok)) {
        for (int k = 0; k < YYNTOKENS; k++) have[k] = k == YYSYMBOL_RBRACE;
        return;
    }
    static const yysymbol_kind_t continuations[] = {
        YYSYMBOL_PLUS, YYSYMBOL_MINUS, YYSYMBOL_STAR, YYSYMBOL_SLASH, YYSYMBOL_LPAREN,
        YYSYMBOL_SEMI, YYSYMBOL_COMMA, YYSYMBOL_YYEOF,
    };
    int others = 0;
    for (int k = 0; k < YYNTOKENS; k++) others += have[k];
    for (size_t i = 0; i < sizeof continuations / sizeof *continuations; i++)
        others -= have[continuations[i]];
    if (others > 0)
        for (size_t i = 0; i < sizeof continuations / sizeof *continuations; i++)
            have[continuations[i]] = 0;
}

/* Replace a group of tokens by one word ("expression", "statement") when all are present. */
static int take_group(int *have, const yysymbol_kind_t *group, int n) {
    for (int i = 0; i < n; i++)
        if (!have[group[i]]) return 0;
    for (int i = 0; i < n; i++) have[group[i]] = 0;
    return 1;
}

/* "; expected ')'", "; expected expression or ']'", "; expected 'param', 'model' or 'train'";
 * empty when nothing short can be said. Returns the number of alternatives named. */
static int describe_expected(yysymbol_kind_t tok, int *have, char *buf, size_t size) {
    static const yysymbol_kind_t expr_start[] = {
        YYSYMBOL_IDENT, YYSYMBOL_NUMBER, YYSYMBOL_STRING,
        YYSYMBOL_LPAREN, YYSYMBOL_LBRACK, YYSYMBOL_MINUS,
    };
    static const yysymbol_kind_t stmt_start[] = {YYSYMBOL_IDENT, YYSYMBOL_KW_INPUT,
                                                 YYSYMBOL_KW_RETURN};
    const char *words[YYNTOKENS + 2];
    int n = 0;
    if (take_group(have, expr_start, 6)) words[n++] = "expression";
    narrow_expected(tok, have);
    if (take_group(have, stmt_start, 3)) words[n++] = "statement";
    for (int k = 0; k < YYNTOKENS; k++)
        if (have[k]) words[n++] = yysymbol_name((yysymbol_kind_t)k);
    buf[0] = 0;
    if (n == 0 || n > 4) return 0;
    size_t used = (size_t)snprintf(buf, size, "; expected %s", words[0]);
    for (int i = 1; i < n && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i == n - 1 ? " or " : ", ",
                                 words[i]);
    return n;
}

/* The unclosed opening bracket that `closer` would close, scanned before `before`. */
static const dl_bracket *find_opener(const parse_ctx *ctx, int closer, const DLYLTYPE *before) {
    int want = closer == TOK_RPAREN ? TOK_LPAREN : closer == TOK_RBRACK ? TOK_LBRACK : TOK_LBRACE;
    for (int i = ctx->n_open - 1; i >= 0; i--)
        if (ctx->open[i].kind == want && ctx->open[i].loc.off < before->off) return &ctx->open[i];
    return NULL;
}

/* "to match this '('" when the only thing expected (n_expected == 1) is a closing bracket. */
static void note_opener(parse_ctx *ctx, int n_expected, const int *have, const DLYLTYPE *loc) {
    static const struct { yysymbol_kind_t sym; int tok; } closers[] = {
        {YYSYMBOL_RPAREN, TOK_RPAREN}, {YYSYMBOL_RBRACK, TOK_RBRACK}, {YYSYMBOL_RBRACE, TOK_RBRACE},
    };
    int tok = 0;
    for (int i = 0; i < 3; i++)
        if (have[closers[i].sym]) tok = closers[i].tok;
    if (n_expected != 1 || !tok) return;
    const dl_bracket *open = find_opener(ctx, tok, loc);
    if (open)
        diag_note(ctx->d, parse_src_loc(ctx, open->loc), "to match this '%c'",
                  ctx->src[open->loc.off]);
}

/* The expected keyword an unexpected identifier is a misspelling of ("modle"), or NULL. */
static const char *misspelt_keyword(const parse_ctx *ctx, const int *have, const DLYLTYPE *loc) {
    static const struct { yysymbol_kind_t sym; const char *word; } keywords[] = {
        {YYSYMBOL_KW_PARAM, "param"}, {YYSYMBOL_KW_MODEL, "model"},
        {YYSYMBOL_KW_TRAIN, "train"}, {YYSYMBOL_KW_INPUT, "input"},
    };
    const char *cands[4];
    int n = 0;
    for (int i = 0; i < 4; i++)
        if (have[keywords[i].sym]) cands[n++] = keywords[i].word;
    char word[16];
    int len = loc->end - loc->off;
    if (n == 0 || len >= (int)sizeof word) return NULL;
    memcpy(word, ctx->src + loc->off, (size_t)len);
    word[len] = 0;
    return diag_closest(word, cands, n);
}

static int yyreport_syntax_error(const yypcontext_t *pc, void *scanner, parse_ctx *ctx) {
    (void)scanner;
    yysymbol_kind_t tok = yypcontext_token(pc);
    if (tok == YYSYMBOL_YYUNDEF) return 0; /* the scanner has reported this token already */
    if (ctx->stopped) return 0;            /* the file was cut short at a reported limit */
    const DLYLTYPE *loc = yypcontext_location(pc);
    yysymbol_kind_t list[YYNTOKENS];
    int have[YYNTOKENS] = {0};
    int n = yypcontext_expected_tokens(pc, list, YYNTOKENS);
    for (int i = 0; i < n; i++)
        if (list[i] >= 0) have[list[i]] = 1;
    char what[128], expected[256];
    describe_token(ctx, tok, loc, what, sizeof what);
    const char *keyword = tok == YYSYMBOL_IDENT ? misspelt_keyword(ctx, have, loc) : NULL;
    if (keyword) {
        diag_error(ctx->d, parse_src_loc(ctx, *loc), "unexpected %s; did you mean '%s'?", what,
                   keyword);
        return 0;
    }
    int n_expected = describe_expected(tok, have, expected, sizeof expected);
    diag_error(ctx->d, parse_src_loc(ctx, *loc), "unexpected %s%s", what, expected);
    note_opener(ctx, n_expected, have, loc);
    return 0;
}

/* Bison calls this only when its stack overflows (a long run of unary minus signs: brackets
 * stop at AST_MAX_BRACKETS first). */
static void dlyerror(DLYLTYPE *loc, void *scanner, parse_ctx *ctx, const char *msg) {
    (void)scanner;
    (void)msg;
    diag_error(ctx->d, parse_src_loc(ctx, *loc),
               "expression is nested too deeply: more than %d operators and brackets pending "
               "(the parser's limit)", AST_MAX_PENDING);
}

/* ---- building the tree ---- */

static ast_expr *new_expr(parse_ctx *ctx, ast_expr_kind kind, DLYLTYPE loc) {
    ast_expr *e = arena_alloc(ctx->a, sizeof *e);
    e->kind = kind;
    e->loc = parse_src_loc(ctx, loc);
    e->depth = 1;
    return e;
}

/* e's depth is 1 + operand's (or more); the first expression of the file past AST_MAX_DEPTH
 * is reported at `at`, the operand that made it too deep (once: every enclosing one is too) */
static void add_operand_depth(parse_ctx *ctx, ast_expr *e, const ast_expr *operand, src_loc at) {
    if (operand->depth + 1 > e->depth) e->depth = operand->depth + 1;
    if (e->depth <= AST_MAX_DEPTH || ctx->too_deep) return;
    ctx->too_deep = 1;
    diag_error(ctx->d, at, "expression is nested too deeply: more than %d levels of operators, "
               "calls and lists (a chain a + b + c + ... counts one level per term)", AST_MAX_DEPTH);
}

static ast_expr *new_binop(parse_ctx *ctx, char op, ast_expr *lhs, ast_expr *rhs, DLYLTYPE loc) {
    ast_expr *e = new_expr(ctx, AST_BINOP, loc);
    e->op = op;
    e->lhs = lhs;
    e->rhs = rhs;
    add_operand_depth(ctx, e, lhs, rhs->loc);
    add_operand_depth(ctx, e, rhs, rhs->loc);
    return e;
}

static ast_expr *new_neg(parse_ctx *ctx, ast_expr *operand, DLYLTYPE loc, DLYLTYPE minus) {
    ast_expr *e = new_expr(ctx, AST_NEG, loc);
    e->lhs = operand;
    add_operand_depth(ctx, e, operand, parse_src_loc(ctx, minus));
    return e;
}

static ast_expr *new_call(parse_ctx *ctx, const char *name, DLYLTYPE loc, arg_vec args) {
    ast_expr *e = new_expr(ctx, AST_CALL, loc);
    e->str = name;
    e->args = args.v;
    e->n_args = args.n;
    for (int i = 0; i < args.n; i++) add_operand_depth(ctx, e, args.v[i].value, e->loc);
    int keyword_seen = 0;
    for (int i = 0; i < args.n; i++) {
        if (args.v[i].name) keyword_seen = 1;
        else if (keyword_seen)
            diag_error(ctx->d, args.v[i].value->loc, "positional argument follows keyword argument");
    }
    return e;
}

static ast_expr *new_list(parse_ctx *ctx, DLYLTYPE loc, arg_vec elems) {
    ast_expr *e = new_expr(ctx, AST_LIST, loc);
    e->args = elems.v;
    e->n_args = elems.n;
    for (int i = 0; i < elems.n; i++) add_operand_depth(ctx, e, elems.v[i].value, e->loc);
    return e;
}

static void push_arg(parse_ctx *ctx, arg_vec *v, const char *name, DLYLTYPE name_loc,
                     ast_expr *value) {
    if (v->n == v->cap) {
        int cap = v->cap ? v->cap * 2 : 4;
        v->v = arena_grow(ctx->a, v->v, sizeof *v->v * (size_t)v->cap, sizeof *v->v * (size_t)cap);
        v->cap = cap;
    }
    ast_arg *a = &v->v[v->n++];
    a->name = name;
    a->name_loc = name ? parse_src_loc(ctx, name_loc) : (src_loc){0, 0, 0};
    a->value = value;
}

static void push_stmt(parse_ctx *ctx, stmt_vec *v, const ast_stmt *s) {
    if (v->n == v->cap) {
        int cap = v->cap ? v->cap * 2 : 8;
        v->v = arena_grow(ctx->a, v->v, sizeof *v->v * (size_t)v->cap, sizeof *v->v * (size_t)cap);
        v->cap = cap;
    }
    v->v[v->n++] = *s;
}

static ast_stmt *new_assign(parse_ctx *ctx, const char *name, DLYLTYPE loc, ast_expr *value) {
    ast_stmt *s = arena_alloc(ctx->a, sizeof *s);
    s->kind = AST_STMT_ASSIGN;
    s->name = name;
    s->loc = parse_src_loc(ctx, loc);
    s->value = value;
    return s;
}

static ast_stmt *new_section(parse_ctx *ctx, const char *kind, DLYLTYPE loc, const char *label,
                             DLYLTYPE label_loc, stmt_vec body) {
    ast_stmt *s = arena_alloc(ctx->a, sizeof *s);
    s->kind = AST_STMT_SECTION;
    s->name = kind;
    s->loc = parse_src_loc(ctx, loc);
    s->label = label;
    s->label_loc = parse_src_loc(ctx, label_loc);
    s->body = body.v;
    s->n_body = body.n;
    return s;
}

static ast_stmt *new_input(parse_ctx *ctx, const char *name, DLYLTYPE loc, const ast_type *t) {
    ast_stmt *s = arena_alloc(ctx->a, sizeof *s);
    s->kind = AST_STMT_INPUT;
    s->name = name;
    s->loc = parse_src_loc(ctx, loc);
    s->type = *t;
    return s;
}

static ast_type *new_type(parse_ctx *ctx, const char *dtype, DLYLTYPE loc, arg_vec dims) {
    ast_type *t = arena_alloc(ctx->a, sizeof *t);
    t->dtype = dtype;
    t->loc = parse_src_loc(ctx, loc);
    t->rank = dims.n;
    if (dims.n) t->dims = arena_alloc(ctx->a, sizeof *t->dims * (size_t)dims.n);
    for (int i = 0; i < dims.n; i++) t->dims[i] = dims.v[i].value;
    return t;
}

static void add_item(parse_ctx *ctx, const ast_item *it) {
    ast_file *f = ctx->file;
    if (f->n_items == ctx->cap_items) {
        int cap = ctx->cap_items ? ctx->cap_items * 2 : 8;
        f->items = arena_grow(ctx->a, f->items, sizeof *f->items * (size_t)ctx->cap_items,
                              sizeof *f->items * (size_t)cap);
        ctx->cap_items = cap;
    }
    f->items[f->n_items++] = *it;
}

static void add_param(parse_ctx *ctx, DLYLTYPE kw, const char *name, DLYLTYPE name_loc,
                      ast_expr *value) {
    ast_item it = {0};
    it.kind = AST_ITEM_PARAM;
    it.name = name;
    it.loc = parse_src_loc(ctx, kw);
    it.name_loc = parse_src_loc(ctx, name_loc);
    it.value = value;
    add_item(ctx, &it);
}

static void add_block(parse_ctx *ctx, ast_item_kind kind, DLYLTYPE kw, const char *name,
                      DLYLTYPE name_loc, stmt_vec body) {
    ast_item it = {0};
    it.kind = kind;
    it.name = name;
    it.loc = parse_src_loc(ctx, kw);
    it.name_loc = parse_src_loc(ctx, name_loc);
    it.stmts = body.v;
    it.n_stmts = body.n;
    add_item(ctx, &it);
}

/* the parameters of the block item just added (names in name, defaults in value or NULL) */
static void set_block_params(parse_ctx *ctx, arg_vec params) {
    ast_item *it = &ctx->file->items[ctx->file->n_items - 1];
    it->params = params.v;
    it->n_params = params.n;
}

/* ---- entry point ---- */

ast_file *parse_file(const char *src, arena *a, diag *d) {
    parse_ctx ctx = {0};
    ctx.src = src;
    ctx.a = a;
    ctx.d = d;
    ctx.file = arena_alloc(a, sizeof *ctx.file);
    ctx.line = ctx.col = 1;
    ctx.last_end = (DLYLTYPE){1, 1, 1, 1, 0, 0};
    ctx.replayed_off = -1;
    int errors_before = d->n_errors;
    int rc = lex_scan_and_parse(&ctx);
    if (rc != 0 && d->n_errors == errors_before)
        dlc_internal_error(__FILE__, __LINE__, "parser failed without reporting an error");
    return d->n_errors > errors_before ? NULL : ctx.file;
}
