/* The SQLite side of query exports, in C: a query's rows as CSV records, written straight from
 * SQLite's values, with no Python object made per value.
 *
 * It writes what jobext/kinds/csv_export.py writes in Python (tests/kinds/test_sqlite_csv.py
 * compares the two on random values): PostgreSQL's COPY CSV format; NULL an empty field; text
 * quoted when empty or holding a comma, a quote, LF or CR, quotes doubled; integers in decimal;
 * floats as Python's repr (the same CPython function); blobs as \x and lowercase hex. Text that
 * is not valid UTF-8 fails the export, as sqlite3's own decoding does.
 *
 * The module is optional: the build compiles it when a C compiler and sqlite3.h are at hand
 * (hatch_build.py), and the export falls back to Python without it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <sqlite3.h>
#include <math.h>
#include <string.h>

static PyObject *OperationalError; /* sqlite3.OperationalError: as the Python path raises */
static PyObject *ProgrammingError; /* sqlite3.ProgrammingError */

typedef struct {
    char *data;
    size_t size;
    size_t capacity;
} Buffer;

static int
reserve(Buffer *buffer, size_t more)
{
    if (buffer->size + more <= buffer->capacity)
        return 0;
    size_t capacity = buffer->capacity ? buffer->capacity : 1 << 16;
    while (capacity < buffer->size + more)
        capacity *= 2;
    char *data = PyMem_Realloc(buffer->data, capacity);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    buffer->data = data;
    buffer->capacity = capacity;
    return 0;
}

typedef struct {
    PyObject_HEAD
    sqlite3 *db;
    sqlite3_stmt *statement;
    int width;
    int done;
    Buffer buffer;
} Reader;

static void
set_error(Reader *self, PyObject *kind)
{
    PyErr_SetString(kind, self->db ? sqlite3_errmsg(self->db) : "out of memory");
}

/* The length of the valid UTF-8 sequence starting at text[0] (one of `left` bytes), or 0 when
 * it is not valid: as CPython's strict decoder, no overlong forms, no surrogates, nothing past
 * U+10FFFF. */
static int
utf8_length(const unsigned char *text, size_t left)
{
    unsigned char c = text[0];
    if (c < 0xC2)
        return 0;
    if (c < 0xE0)
        return left >= 2 && (text[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if (left < 3 || (text[1] & 0xC0) != 0x80 || (text[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && text[1] < 0xA0)
            return 0; /* overlong */
        if (c == 0xED && text[1] >= 0xA0)
            return 0; /* a surrogate */
        return 3;
    }
    if (c < 0xF5) {
        if (left < 4 || (text[1] & 0xC0) != 0x80 || (text[2] & 0xC0) != 0x80 ||
            (text[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && text[1] < 0x90)
            return 0; /* overlong */
        if (c == 0xF4 && text[1] >= 0x90)
            return 0; /* past U+10FFFF */
        return 4;
    }
    return 0;
}

/* Appends a text value: checked as UTF-8, quoted when COPY would quote it. */
static int
append_text(Reader *self, int column)
{
    const unsigned char *text = sqlite3_column_text(self->statement, column);
    size_t length = (size_t)sqlite3_column_bytes(self->statement, column);
    if (text == NULL && length) {
        PyErr_NoMemory();
        return -1;
    }
    int quote = length == 0;
    size_t quotes = 0;
    for (size_t i = 0; i < length;) {
        unsigned char c = text[i];
        if (c < 0x80) {
            if (c == ',' || c == '\n' || c == '\r')
                quote = 1;
            else if (c == '"') {
                quote = 1;
                quotes++;
            }
            i++;
            continue;
        }
        int step = utf8_length(text + i, length - i);
        if (step == 0) {
            PyErr_Format(OperationalError,
                         "Could not decode to UTF-8 column '%s' (byte %zu of its text)",
                         sqlite3_column_name(self->statement, column), i);
            return -1;
        }
        i += (size_t)step;
    }
    if (reserve(&self->buffer, length + quotes + 2) < 0)
        return -1;
    char *out = self->buffer.data + self->buffer.size;
    if (!quote) {
        memcpy(out, text, length);
        self->buffer.size += length;
        return 0;
    }
    *out++ = '"';
    for (size_t i = 0; i < length; i++) {
        if (text[i] == '"')
            *out++ = '"';
        *out++ = (char)text[i];
    }
    *out++ = '"';
    self->buffer.size = (size_t)(out - self->buffer.data);
    return 0;
}

static int
append_integer(Reader *self, sqlite3_int64 value)
{
    char digits[24];
    int n = 0;
    /* Unsigned, so that the most negative value has a magnitude too. */
    sqlite3_uint64 magnitude = value < 0 ? 0 - (sqlite3_uint64)value : (sqlite3_uint64)value;
    do {
        digits[n++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (reserve(&self->buffer, (size_t)n + 1) < 0)
        return -1;
    char *out = self->buffer.data + self->buffer.size;
    if (value < 0)
        *out++ = '-';
    while (n)
        *out++ = digits[--n];
    self->buffer.size = (size_t)(out - self->buffer.data);
    return 0;
}

#ifdef __SIZEOF_INT128__
static const unsigned long long POWERS_OF_TEN[20] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL, 100000000ULL,
    1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL, 10000000000000ULL,
    100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
    1000000000000000000ULL, 10000000000000000000ULL,
};

/* Writes into `out` the text repr() gives for `value`, for the common case, in exact integer
 * arithmetic; returns its length, or 0 when the case is left to CPython's own function
 * (PyOS_double_to_string, about 5 times slower).
 *
 * The case: 1e-4 <= |value| < 2**53, where repr writes plain decimals, and an unlopsided
 * rounding interval. With value = m * 2**e (m of 53 bits), the decimal r / 10**k reads back as
 * value exactly when |r * 2**-e - m * 10**k| < 10**k / 2. repr gives the shortest decimal that
 * reads back, and of those the nearest: for k = 0, 1, 2... the nearest r is tried, and the first
 * that reads back is it. A tie (two nearest r, or a distance of exactly half) is left to
 * CPython, as are decimals needing more than 19 places. */
static size_t
short_float(double value, char *out)
{
    double magnitude = fabs(value);
    if (!(magnitude >= 1e-4 && magnitude < 9007199254740992.0))
        return 0;
    int exponent;
    double fraction = frexp(magnitude, &exponent);
    unsigned long long m = (unsigned long long)ldexp(fraction, 53);
    int shift = 53 - exponent; /* magnitude = m / 2**shift, m in [2**52, 2**53) */
    if (m == 1ULL << 52)
        return 0; /* a power of two: the interval below is half the one above */
    unsigned long long r = 0;
    int k = 0;
    if (shift <= 0) /* an integer of 53 bits */
        r = m << -shift;
    else {
        typedef unsigned __int128 u128;
        u128 half = (u128)1 << (shift - 1);
        for (;; k++) {
            if (k == 20)
                return 0;
            u128 scaled = (u128)m * POWERS_OF_TEN[k];
            u128 nearest = scaled >> shift;
            u128 rest = scaled - (nearest << shift);
            if (rest == half)
                return 0;
            if (rest > half) {
                nearest++;
                rest = (nearest << shift) - scaled;
            }
            if (nearest >= POWERS_OF_TEN[17] * 10) /* more than 18 digits: not this case */
                return 0;
            u128 twice = rest * 2;
            if (twice == POWERS_OF_TEN[k])
                return 0;
            if (twice < POWERS_OF_TEN[k]) {
                r = (unsigned long long)nearest;
                break;
            }
        }
    }
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + r % 10);
        r /= 10;
    } while (r);
    while (n <= k) /* leading zeros: 0.0001 */
        digits[n++] = '0';
    char *at = out;
    if (value < 0)
        *at++ = '-';
    while (n > k)
        *at++ = digits[--n];
    *at++ = '.';
    if (k == 0)
        *at++ = '0';
    while (n)
        *at++ = digits[--n];
    return (size_t)(at - out);
}
#endif

static int
append_float(Reader *self, double value)
{
#ifdef __SIZEOF_INT128__
    if (reserve(&self->buffer, 32) < 0)
        return -1;
    size_t length = short_float(value, self->buffer.data + self->buffer.size);
    if (length) {
        self->buffer.size += length;
        return 0;
    }
#endif
    /* What repr() of a Python float calls: the shortest text that reads back as the value. */
    char *text = PyOS_double_to_string(value, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (text == NULL)
        return -1;
    size_t size = strlen(text);
    int failed = reserve(&self->buffer, size);
    if (!failed) {
        memcpy(self->buffer.data + self->buffer.size, text, size);
        self->buffer.size += size;
    }
    PyMem_Free(text);
    return failed;
}

static int
append_blob(Reader *self, int column)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *blob = sqlite3_column_blob(self->statement, column);
    size_t length = (size_t)sqlite3_column_bytes(self->statement, column);
    if (reserve(&self->buffer, 2 + 2 * length) < 0)
        return -1;
    char *out = self->buffer.data + self->buffer.size;
    *out++ = '\\';
    *out++ = 'x';
    for (size_t i = 0; i < length; i++) {
        *out++ = hex[blob[i] >> 4];
        *out++ = hex[blob[i] & 15];
    }
    self->buffer.size = (size_t)(out - self->buffer.data);
    return 0;
}

static int
append_row(Reader *self)
{
    for (int column = 0; column < self->width; column++) {
        if (column) {
            if (reserve(&self->buffer, 1) < 0)
                return -1;
            self->buffer.data[self->buffer.size++] = ',';
        }
        int failed = 0;
        switch (sqlite3_column_type(self->statement, column)) {
        case SQLITE_NULL:
            break;
        case SQLITE_INTEGER:
            failed = append_integer(self, sqlite3_column_int64(self->statement, column));
            break;
        case SQLITE_FLOAT:
            failed = append_float(self, sqlite3_column_double(self->statement, column));
            break;
        case SQLITE_TEXT:
            failed = append_text(self, column);
            break;
        default:
            failed = append_blob(self, column);
        }
        if (failed)
            return -1;
    }
    if (reserve(&self->buffer, 1) < 0)
        return -1;
    self->buffer.data[self->buffer.size++] = '\n';
    return 0;
}

static int
bind(Reader *self, PyObject *params)
{
    PyObject *values = PySequence_Fast(params, "params must be a sequence");
    if (values == NULL)
        return -1;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(values);
    int rc = SQLITE_OK;
    if (count != sqlite3_bind_parameter_count(self->statement)) {
        PyErr_Format(ProgrammingError,
                     "Incorrect number of bindings supplied. The current statement uses %d, "
                     "and there are %zd supplied.",
                     sqlite3_bind_parameter_count(self->statement), count);
        Py_DECREF(values);
        return -1;
    }
    for (Py_ssize_t i = 0; i < count && rc == SQLITE_OK; i++) {
        PyObject *value = PySequence_Fast_GET_ITEM(values, i);
        int at = (int)i + 1;
        if (value == Py_None)
            rc = sqlite3_bind_null(self->statement, at);
        else if (PyLong_Check(value)) {
            long long number = PyLong_AsLongLong(value);
            if (number == -1 && PyErr_Occurred())
                break;
            rc = sqlite3_bind_int64(self->statement, at, number);
        }
        else if (PyFloat_Check(value))
            rc = sqlite3_bind_double(self->statement, at, PyFloat_AS_DOUBLE(value));
        else if (PyUnicode_Check(value)) {
            Py_ssize_t length;
            const char *text = PyUnicode_AsUTF8AndSize(value, &length);
            if (text == NULL)
                break;
            rc = sqlite3_bind_text64(self->statement, at, text, (sqlite3_uint64)length,
                                     SQLITE_TRANSIENT, SQLITE_UTF8);
        }
        else if (PyBytes_Check(value))
            rc = sqlite3_bind_blob64(self->statement, at, PyBytes_AS_STRING(value),
                                     (sqlite3_uint64)PyBytes_GET_SIZE(value), SQLITE_TRANSIENT);
        else {
            PyErr_Format(PyExc_TypeError, "parameter %zd: type '%s' is not supported", i + 1,
                         Py_TYPE(value)->tp_name);
            break;
        }
    }
    Py_DECREF(values);
    if (PyErr_Occurred())
        return -1;
    if (rc != SQLITE_OK) {
        set_error(self, OperationalError);
        return -1;
    }
    return 0;
}

static int
Reader_init(Reader *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"filename", "sql", "params", "uri", "timeout", NULL};
    const char *filename;
    PyObject *sql;
    PyObject *params;
    int uri = 0;
    double timeout = 5.0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "sUO|pd", keywords, &filename, &sql, &params,
                                     &uri, &timeout))
        return -1;
    if (self->db != NULL) {
        PyErr_SetString(ProgrammingError, "the reader is open already");
        return -1;
    }
    /* Read-write but not created when missing (sqlite3 would make an empty file); writes are
     * refused by query_only. A URI's own mode= may ask for less, and for rwc, as sqlite3. */
    int flags = SQLITE_OPEN_READWRITE | (uri ? SQLITE_OPEN_URI | SQLITE_OPEN_CREATE : 0);
    Py_ssize_t length;
    const char *text = PyUnicode_AsUTF8AndSize(sql, &length);
    if (text == NULL)
        return -1;
    if (strlen(text) != (size_t)length) {
        PyErr_SetString(ProgrammingError, "the query contains a null character");
        return -1;
    }
    int rc;
    const char *tail = NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = sqlite3_open_v2(filename, &self->db, flags, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(self->db, (int)(timeout * 1000));
        rc = sqlite3_exec(self->db, "PRAGMA query_only = ON", NULL, NULL, NULL);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(self->db, text, (int)length + 1, &self->statement, &tail);
    Py_END_ALLOW_THREADS
    if (rc != SQLITE_OK) {
        set_error(self, OperationalError);
        return -1;
    }
    /* One statement only, as sqlite3's execute(): what follows it may be blanks and comments. */
    if (tail != NULL && *tail) {
        sqlite3_stmt *next = NULL;
        const char *rest = NULL;
        rc = sqlite3_prepare_v2(self->db, tail, -1, &next, &rest);
        sqlite3_finalize(next);
        if (rc != SQLITE_OK || next != NULL) {
            PyErr_SetString(ProgrammingError, "You can only execute one statement at a time.");
            return -1;
        }
    }
    self->width = self->statement ? sqlite3_column_count(self->statement) : 0;
    if (self->statement && bind(self, params) < 0)
        return -1;
    return 0;
}

static void
Reader_close_handles(Reader *self)
{
    self->width = 0;
    self->done = 1;
    if (self->statement) {
        sqlite3_finalize(self->statement);
        self->statement = NULL;
    }
    if (self->db) {
        sqlite3_close_v2(self->db);
        self->db = NULL;
    }
    PyMem_Free(self->buffer.data);
    self->buffer.data = NULL;
    self->buffer.size = self->buffer.capacity = 0;
}

static void
Reader_dealloc(Reader *self)
{
    Reader_close_handles(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
Reader_columns(Reader *self, void *Py_UNUSED(closure))
{
    PyObject *names = PyTuple_New(self->width);
    if (names == NULL)
        return NULL;
    for (int column = 0; column < self->width; column++) {
        const char *name = sqlite3_column_name(self->statement, column);
        PyObject *text = PyUnicode_FromString(name ? name : "");
        if (text == NULL) {
            Py_DECREF(names);
            return NULL;
        }
        PyTuple_SET_ITEM(names, column, text);
    }
    return names;
}

static PyObject *
Reader_read(Reader *self, PyObject *arg)
{
    long wanted = PyLong_AsLong(arg);
    if (wanted == -1 && PyErr_Occurred())
        return NULL;
    if (self->db == NULL) {
        PyErr_SetString(ProgrammingError, "the reader is closed");
        return NULL;
    }
    if (self->statement == NULL) /* the SQL held no statement: blanks and comments */
        self->done = 1;
    long count = 0;
    self->buffer.size = 0;
    while (!self->done && count < wanted) {
        int rc = sqlite3_step(self->statement);
        if (rc == SQLITE_ROW) {
            if (append_row(self) < 0)
                return NULL;
            count++;
        }
        else if (rc == SQLITE_DONE)
            self->done = 1;
        else {
            set_error(self, OperationalError);
            return NULL;
        }
    }
    PyObject *text = PyBytes_FromStringAndSize(self->buffer.data, (Py_ssize_t)self->buffer.size);
    if (text == NULL)
        return NULL;
    PyObject *result = Py_BuildValue("(lN)", count, text);
    /* A big chunk's buffer is not kept for the next one. */
    if (self->buffer.capacity > (1 << 24)) {
        PyMem_Free(self->buffer.data);
        self->buffer.data = NULL;
        self->buffer.capacity = 0;
    }
    self->buffer.size = 0;
    return result;
}

static PyObject *
Reader_close(Reader *self, PyObject *Py_UNUSED(ignored))
{
    Reader_close_handles(self);
    Py_RETURN_NONE;
}

static PyMethodDef Reader_methods[] = {
    {"read", (PyCFunction)Reader_read, METH_O,
     "read(n) -> (rows, bytes): the CSV records of up to n more rows; 0 rows at the end."},
    {"close", (PyCFunction)Reader_close, METH_NOARGS,
     "Finish the statement and close the connection."},
    {NULL},
};

static PyGetSetDef Reader_getset[] = {
    {"columns", (getter)Reader_columns, NULL, "The result's column names.", NULL},
    {NULL},
};

static PyTypeObject ReaderType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "jobext.kinds._sqlite_csv.Reader",
    .tp_doc = "Reader(filename, sql, params, uri=False, timeout=5.0): one query on a read-only "
              "connection of its own, its parameters bound by position; read() gives CSV.",
    .tp_basicsize = sizeof(Reader),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Reader_init,
    .tp_dealloc = (destructor)Reader_dealloc,
    .tp_methods = Reader_methods,
    .tp_getset = Reader_getset,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "jobext.kinds._sqlite_csv",
    .m_doc = "SQLite query results as CSV records, in C (see csv_export.py).",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__sqlite_csv(void)
{
    if (PyType_Ready(&ReaderType) < 0)
        return NULL;
    PyObject *sqlite3_module = PyImport_ImportModule("sqlite3");
    if (sqlite3_module == NULL)
        return NULL;
    OperationalError = PyObject_GetAttrString(sqlite3_module, "OperationalError");
    ProgrammingError = PyObject_GetAttrString(sqlite3_module, "ProgrammingError");
    Py_DECREF(sqlite3_module);
    if (OperationalError == NULL || ProgrammingError == NULL)
        return NULL;
    PyObject *self = PyModule_Create(&module);
    if (self == NULL)
        return NULL;
    Py_INCREF(&ReaderType);
    if (PyModule_AddObject(self, "Reader", (PyObject *)&ReaderType) < 0) {
        Py_DECREF(&ReaderType);
        Py_DECREF(self);
        return NULL;
    }
    if (PyModule_AddStringConstant(self, "sqlite_version", sqlite3_libversion()) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return self;
}
