/* engine._construct: build instances of the engine's frozen slotted classes from positional
 * values, without running Python code.
 *
 * Why: the loader builds an event and a record reference for every input record, and the
 * engine a result row for every planned occurrence and every event it accounts for. attrs'
 * __init__ for a frozen class writes each field through object.__setattr__; the pure-Python
 * builder of engine.patient.fast_constructor writes them by plain assignment into a look-alike
 * class and then reassigns __class__. This builder does what those end up doing, in C: it
 * allocates the instance with the class's own tp_alloc and stores each value in its slot, at
 * the offset the class's member descriptor gives. The result is an ordinary instance of the
 * class (same type, fields, equality, hash, frozenness), as the pure-Python builder's is.
 *
 * What makes it safe:
 *  - builder(cls, names) accepts only a type whose every name is a writable object slot
 *    (a member descriptor of type T_OBJECT_EX that belongs to cls or one of its bases);
 *    anything else raises TypeError when the builder is made, never when it is called;
 *  - a call must give exactly one positional value per name (TypeError otherwise);
 *  - tp_alloc returns zeroed memory, so no slot holds an old value to release, and the
 *    instance is complete before any other Python object is allocated (no garbage collection
 *    can see it half-filled with anything but NULL, which the class's traverse skips).
 * engine.patient.fast_constructor checks the rest (no validators, converters or
 * __attrs_post_init__, which would not run) and falls back to the pure-Python builder when this
 * module is not built or TRIALCODE_PURE is set.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

typedef struct {
    PyObject_HEAD
    PyTypeObject *cls;
    Py_ssize_t count;
    Py_ssize_t *offsets;
    vectorcallfunc vectorcall;
} Builder;

static PyObject *
builder_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Builder *b = (Builder *)self;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0) {
        PyErr_Format(PyExc_TypeError, "building %s takes positional values only",
                     b->cls->tp_name);
        return NULL;
    }
    if (nargs != b->count) {
        PyErr_Format(PyExc_TypeError, "building %s takes %zd values (%zd given)",
                     b->cls->tp_name, b->count, nargs);
        return NULL;
    }
    PyObject *obj = b->cls->tp_alloc(b->cls, 0);
    if (obj == NULL) {
        return NULL;
    }
    char *base = (char *)obj;
    for (Py_ssize_t i = 0; i < nargs; i++) {
        PyObject *value = args[i];
        Py_INCREF(value);
        *(PyObject **)(base + b->offsets[i]) = value;
    }
    return obj;
}

static void
builder_dealloc(Builder *b)
{
    PyObject_GC_UnTrack(b);
    Py_CLEAR(b->cls);
    PyMem_Free(b->offsets);
    PyObject_GC_Del(b);
}

static int
builder_traverse(Builder *b, visitproc visit, void *arg)
{
    Py_VISIT(b->cls);
    return 0;
}

static PyObject *
builder_repr(Builder *b)
{
    return PyUnicode_FromFormat("<builder of %s (%zd fields)>", b->cls->tp_name, b->count);
}

static PyTypeObject BuilderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "engine._construct.Builder",
    .tp_basicsize = sizeof(Builder),
    .tp_dealloc = (destructor)builder_dealloc,
    .tp_vectorcall_offset = offsetof(Builder, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_repr = (reprfunc)builder_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_traverse = (traverseproc)builder_traverse,
    .tp_doc = "Builds an instance of one class from one positional value per slot.",
};

/* The offset of the object slot `name` of `cls`, or -1 with TypeError set. */
static Py_ssize_t
slot_offset(PyTypeObject *cls, PyObject *name)
{
    if (!PyUnicode_Check(name)) {
        PyErr_SetString(PyExc_TypeError, "field names must be strings");
        return -1;
    }
    PyObject *descr = PyObject_GetAttr((PyObject *)cls, name);
    if (descr == NULL) {
        return -1;
    }
    Py_ssize_t offset = -1;
    if (!Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
        PyErr_Format(PyExc_TypeError, "%s.%U is not a slot", cls->tp_name, name);
    }
    else {
        PyMemberDescrObject *member = (PyMemberDescrObject *)descr;
        PyMemberDef *def = member->d_member;
        if (!PyType_IsSubtype(cls, PyDescr_TYPE(member))) {
            PyErr_Format(PyExc_TypeError, "%s.%U is a slot of another class", cls->tp_name,
                         name);
        }
        else if (def->type != T_OBJECT_EX || (def->flags & READONLY)) {
            PyErr_Format(PyExc_TypeError, "%s.%U is not a writable object slot", cls->tp_name,
                         name);
        }
        else if (def->offset < (Py_ssize_t)sizeof(PyObject)
                 || def->offset + (Py_ssize_t)sizeof(PyObject *) > cls->tp_basicsize) {
            PyErr_Format(PyExc_TypeError, "%s.%U lies outside the instance", cls->tp_name, name);
        }
        else {
            offset = def->offset;
        }
    }
    Py_DECREF(descr);
    return offset;
}

static PyObject *
make_builder(PyObject *module, PyObject *args)
{
    PyObject *cls_obj, *names;
    if (!PyArg_ParseTuple(args, "O!O!:builder", &PyType_Type, &cls_obj, &PyTuple_Type, &names)) {
        return NULL;
    }
    PyTypeObject *cls = (PyTypeObject *)cls_obj;
    if (cls->tp_alloc == NULL || cls->tp_itemsize != 0 || cls->tp_dictoffset != 0) {
        PyErr_Format(PyExc_TypeError, "builder cannot build %s: not a plain slotted class",
                     cls->tp_name);
        return NULL;
    }
    Py_ssize_t count = PyTuple_GET_SIZE(names);
    Py_ssize_t *offsets = PyMem_Calloc(count > 0 ? count : 1, sizeof(Py_ssize_t));
    if (offsets == NULL) {
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_ssize_t offset = slot_offset(cls, PyTuple_GET_ITEM(names, i));
        if (offset < 0) {
            PyMem_Free(offsets);
            return NULL;
        }
        for (Py_ssize_t j = 0; j < i; j++) {
            if (offsets[j] == offset) {
                PyMem_Free(offsets);
                PyErr_Format(PyExc_TypeError, "%s: a slot is named twice", cls->tp_name);
                return NULL;
            }
        }
        offsets[i] = offset;
    }
    Builder *b = PyObject_GC_New(Builder, &BuilderType);
    if (b == NULL) {
        PyMem_Free(offsets);
        return NULL;
    }
    Py_INCREF(cls);
    b->cls = cls;
    b->count = count;
    b->offsets = offsets;
    b->vectorcall = builder_vectorcall;
    PyObject_GC_Track(b);
    return (PyObject *)b;
}

static PyMethodDef construct_methods[] = {
    {"builder", make_builder, METH_VARARGS,
     "builder(cls, names) -> a callable that builds a cls from one positional value per name "
     "(each name an object slot of cls)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef construct_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "engine._construct",
    .m_doc = "Builds instances of frozen slotted classes from positional values, in C.",
    .m_size = -1,
    .m_methods = construct_methods,
};

PyMODINIT_FUNC
PyInit__construct(void)
{
    if (PyType_Ready(&BuilderType) < 0) {
        return NULL;
    }
    return PyModule_Create(&construct_module);
}
