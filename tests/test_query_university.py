"""The query algebra over a realistic university schema, each query checked against a Python oracle.

The schema (departments, students, majors, courses, terms, sections, enrollments, grades) and a
self-referencing one (employees and their managers through a renamed foreign key) are filled
with seeded random data once per backend. Every query is answered twice: by the database, and
in plain Python over the fetched base tables. The answers must agree on every backend.
"""

from __future__ import annotations

import datetime
import random
import statistics
from collections import defaultdict
from decimal import Decimal

import pytest

import pipejoint as dj
from helpers import drop_schema, unique_name
from pipejoint.errors import DataJointError

FIRST = ["Ana", "Ben", "Chloé", "Dmitri", "Eve", "Farah", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lia", "Ming", "Noor"]
LAST = ["O'Brien", "Smith", "Müller", "Nguyen", "García", "Back\\slash", "Lee", "Kowalski", "Abe", "Diaz"]
CITIES = ["Boston", "Austin", "Denver", "Salem", "Dover"]
STATES = ["MA", "TX", "CO", "OR", "DE"]
GRADES = {"A": Decimal("4.00"), "B": Decimal("3.00"), "C": Decimal("2.00"), "D": Decimal("1.00"), "F": Decimal("0.00")}


def declare(schema):
    """The university and employee tables, declared on `schema`; returns them by name."""

    @schema
    class Department(dj.Lookup):
        definition = """
        dept : varchar(6)
        ---
        dept_name : varchar(60)
        dept_address : varchar(120)
        """

    @schema
    class Student(dj.Manual):
        definition = """
        student_id : int unsigned
        ---
        first_name : varchar(40)
        last_name : varchar(40)
        sex : enum('F', 'M', 'U')
        date_of_birth = null : date
        home_city : varchar(40)
        home_state : char(2)
        """

    @schema
    class StudentMajor(dj.Manual):
        definition = """
        -> Student
        ---
        -> Department
        declare_date : date
        """

    @schema
    class Course(dj.Manual):
        definition = """
        -> Department
        course : int unsigned
        ---
        course_name : varchar(200)
        credits : decimal(3,1)
        """

    @schema
    class Term(dj.Lookup):
        definition = """
        term_year : smallint unsigned
        term : enum('Spring', 'Summer', 'Fall')
        """

    @schema
    class Section(dj.Manual):
        definition = """
        -> Course
        -> Term
        section : char(1)
        ---
        auditorium : varchar(12)
        """

    @schema
    class Enroll(dj.Manual):
        definition = """
        -> Student
        -> Section
        """

    @schema
    class LetterGrade(dj.Lookup):
        definition = """
        grade : char(2)
        ---
        points : decimal(3,2)
        """

    @schema
    class Grade(dj.Manual):
        definition = """
        -> Enroll
        ---
        -> LetterGrade
        """

    @schema
    class Employee(dj.Manual):
        definition = """
        employee_id : int32
        ---
        name : varchar(40)
        salary : int32
        hire_date : date
        """

    @schema
    class ReportsTo(dj.Manual):
        definition = """
        -> Employee
        ---
        -> Employee.proj(manager_id='employee_id')
        """

    return dict(
        Department=Department,
        Student=Student,
        StudentMajor=StudentMajor,
        Course=Course,
        Term=Term,
        Section=Section,
        Enroll=Enroll,
        LetterGrade=LetterGrade,
        Grade=Grade,
        Employee=Employee,
        ReportsTo=ReportsTo,
    )


def populate(t):
    rng = random.Random(2024)
    t["Department"].insert(
        [
            ("MATH", "Mathematics", "Hall 1"),
            ("CS", "Computer Science", "Hall 2"),
            ("BIOL", "Biology", "Lab 3"),
            ("PHYS", "Physics", "Lab 4"),
            ("HIST", "History", "Old Building"),
        ]
    )
    students = []
    for sid in range(1, 61):
        dob = None if sid % 11 == 0 else datetime.date(1995, 1, 1) + datetime.timedelta(days=rng.randrange(3650))
        city = rng.randrange(len(CITIES))
        students.append(
            dict(
                student_id=sid,
                first_name=rng.choice(FIRST),
                last_name=rng.choice(LAST),
                sex=rng.choice("FMU"),
                date_of_birth=dob,
                home_city=CITIES[city],
                home_state=STATES[city],
            )
        )
    t["Student"].insert(students)
    depts = ["MATH", "CS", "BIOL", "PHYS", "HIST"]
    t["StudentMajor"].insert(
        dict(
            student_id=s["student_id"],
            dept=rng.choice(depts[:4]),
            declare_date=datetime.date(2020, 1, 1) + datetime.timedelta(days=rng.randrange(900)),
        )
        for s in students
        if s["student_id"] % 4 != 0
    )
    courses = []
    for dept in depts:
        for number in rng.sample(range(1000, 4000), 3 if dept != "HIST" else 2):
            courses.append(
                dict(
                    dept=dept,
                    course=number,
                    course_name=f"{dept} {number}: topics",
                    credits=Decimal(rng.choice(["3.0", "4.0", "1.5"])),
                )
            )
    t["Course"].insert(courses)
    terms = [(2022, "Fall"), (2023, "Spring"), (2023, "Fall"), (2024, "Spring")]
    t["Term"].insert(terms + [(2024, "Summer")])
    sections = []
    for c in courses:
        for year, term in rng.sample(terms, 2):
            for letter in "ab"[: rng.randrange(1, 3)]:
                sections.append(
                    dict(
                        dept=c["dept"],
                        course=c["course"],
                        term_year=year,
                        term=term,
                        section=letter,
                        auditorium=f"A{rng.randrange(1, 9)}",
                    )
                )
    t["Section"].insert(sections)
    enrolls = set()
    for s in students:
        for sec in rng.sample(sections, rng.randrange(0, 6)):
            enrolls.add((s["student_id"], sec["dept"], sec["course"], sec["term_year"], sec["term"], sec["section"]))
    enrolls = sorted(enrolls)
    t["Enroll"].insert(enrolls)
    t["LetterGrade"].insert(list(GRADES.items()))
    t["Grade"].insert(e + (rng.choice(list(GRADES)),) for e in enrolls if rng.random() < 0.8)
    t["Employee"].insert(
        [
            (
                i,
                f"emp{i}",
                40000 + 1000 * rng.randrange(60),
                datetime.date(2010, 1, 1) + datetime.timedelta(days=rng.randrange(4000)),
            )
            for i in range(1, 21)
        ]
    )
    t["ReportsTo"].insert([(i, 1 if i < 5 else rng.randrange(2, 5)) for i in range(2, 21)])


@pytest.fixture(scope="module")
def uni(backend_connection):
    """(tables, base rows as dicts) for the backend of this test."""
    connection, _ = backend_connection
    schema = dj.Schema(unique_name("uni"), connection=connection)
    try:
        tables = {name: cls() for name, cls in declare(schema).items()}
        populate(tables)
        base = {name: table.to_dicts() for name, table in tables.items()}
        yield tables, base
    finally:
        drop_schema(connection, schema.database)


# --- helpers ---------------------------------------------------------------------------------


def norm(value):
    """Values compared across backends: decimals and floats rounded, everything else as is."""
    if isinstance(value, (Decimal, float)):
        return round(float(value), 6)
    return value


def _sort_key(row):
    return tuple((v is not None, v) for v in row)


def rows_of(expression, names=None):
    names = names or expression.heading.names
    return sorted((tuple(norm(r[n]) for n in names) for r in expression.to_dicts()), key=_sort_key)


def expect(expression, oracle_rows, names=None):
    """The expression's rows (on `names`, default its heading) equal the oracle's (a list of dicts)."""
    names = names or expression.heading.names
    expected = sorted((tuple(norm(r[n]) for n in names) for r in oracle_rows), key=_sort_key)
    assert rows_of(expression, names) == expected
    assert len(expression) == len(expected)
    return expected


def natural_join(left, right):
    shared = [n for n in left[0] if n in right[0]] if left and right else []
    index = defaultdict(list)
    for r in right:
        index[tuple(r[n] for n in shared)].append(r)
    return [{**a, **b} for a in left for b in index.get(tuple(a[n] for n in shared), [])]


def matches(row, others, names):
    keys = {tuple(o[n] for n in names) for o in others}
    return tuple(row[n] for n in names) in keys


# --- restriction ---------------------------------------------------------------------------


def test_restrict_by_string_dict_and_lists(uni):
    t, b = uni
    Student = t["Student"]
    expect(Student & "home_state = 'MA'", [s for s in b["Student"] if s["home_state"] == "MA"])
    expect(
        Student & {"home_state": "TX", "sex": "F"},
        [s for s in b["Student"] if s["home_state"] == "TX" and s["sex"] == "F"],
    )
    expect(
        Student & [{"student_id": 3}, {"student_id": 9}, "student_id > 55"],
        [s for s in b["Student"] if s["student_id"] in (3, 9) or s["student_id"] > 55],
    )
    expect(
        Student - [{"home_state": "MA"}, {"home_state": "TX"}],
        [s for s in b["Student"] if s["home_state"] not in ("MA", "TX")],
    )
    expect(
        Student & dj.AndList(["student_id > 10", {"sex": "M"}]),
        [s for s in b["Student"] if s["student_id"] > 10 and s["sex"] == "M"],
    )
    expect(Student & dj.Not({"sex": "F"}), [s for s in b["Student"] if s["sex"] != "F"])
    expect(Student & {"no_such_attribute": 5}, b["Student"])
    expect(Student & [], [])
    expect(Student - [], b["Student"])
    expect(Student & True, b["Student"])
    expect(Student & False, [])
    expect(Student & {"date_of_birth": None}, [s for s in b["Student"] if s["date_of_birth"] is None])
    expect(Student - {"date_of_birth": None}, [s for s in b["Student"] if s["date_of_birth"] is not None])
    expect(Student & "date_of_birth IS NULL", [s for s in b["Student"] if s["date_of_birth"] is None])


def test_restrict_by_date_and_string_comparisons(uni):
    t, b = uni
    Student = t["Student"]
    cutoff = datetime.date(2000, 6, 1)
    expect(
        Student & "date_of_birth > '2000-06-01'",
        [s for s in b["Student"] if s["date_of_birth"] and s["date_of_birth"] > cutoff],
    )
    expect(
        Student & {"date_of_birth": b["Student"][0]["date_of_birth"]},
        [s for s in b["Student"] if s["date_of_birth"] == b["Student"][0]["date_of_birth"]],
    )
    expect(
        Student & "date_of_birth BETWEEN '1997-01-01' AND '1998-12-31'",
        [
            s
            for s in b["Student"]
            if s["date_of_birth"] and datetime.date(1997, 1, 1) <= s["date_of_birth"] <= datetime.date(1998, 12, 31)
        ],
    )
    expect(Student & "last_name < 'M'", [s for s in b["Student"] if s["last_name"] < "M"])
    expect(Student & "first_name LIKE 'A%'", [s for s in b["Student"] if s["first_name"].startswith("A")])
    expect(Student & "last_name LIKE '%i%'", [s for s in b["Student"] if "i" in s["last_name"]])
    expect(
        Student & "home_city IN ('Boston', 'Dover')", [s for s in b["Student"] if s["home_city"] in ("Boston", "Dover")]
    )
    expect(
        Student & "YEAR(date_of_birth) = 1999",
        [s for s in b["Student"] if s["date_of_birth"] and s["date_of_birth"].year == 1999],
    )
    expect(
        Student & "MONTH(date_of_birth) IN (1, 2) AND DAY(date_of_birth) < 15",
        [
            s
            for s in b["Student"]
            if s["date_of_birth"] and s["date_of_birth"].month in (1, 2) and s["date_of_birth"].day < 15
        ],
    )


def test_semijoin_and_antijoin(uni):
    t, b = uni
    expect(t["Student"] & t["Enroll"], [s for s in b["Student"] if matches(s, b["Enroll"], ["student_id"])])
    expect(t["Student"] - t["Enroll"], [s for s in b["Student"] if not matches(s, b["Enroll"], ["student_id"])])
    math_majors = t["StudentMajor"] & {"dept": "MATH"}
    expect(
        t["Student"] & math_majors,
        [
            s
            for s in b["Student"]
            if any(m["student_id"] == s["student_id"] and m["dept"] == "MATH" for m in b["StudentMajor"])
        ],
    )
    # students with an A in any course of their own major's department
    a_grades = t["Grade"] & {"grade": "A"}
    own = [
        g
        for g in b["Grade"]
        if g["grade"] == "A"
        and any(m["student_id"] == g["student_id"] and m["dept"] == g["dept"] for m in b["StudentMajor"])
    ]
    expect(t["Student"] & (t["StudentMajor"] & a_grades), [s for s in b["Student"] if matches(s, own, ["student_id"])])
    # sections nobody enrolled in
    expect(
        t["Section"] - t["Enroll"],
        [s for s in b["Section"] if not matches(s, b["Enroll"], ["dept", "course", "term_year", "term", "section"])],
    )
    # courses never offered in spring
    spring = t["Section"] & {"term": "Spring"}
    expect(
        t["Course"] - spring,
        [
            c
            for c in b["Course"]
            if not any(
                s["dept"] == c["dept"] and s["course"] == c["course"] and s["term"] == "Spring" for s in b["Section"]
            )
        ],
    )


def test_restrict_by_record_array_and_dataframe(uni):
    t, b = uni
    Student = t["Student"]
    keys = (Student & "student_id < 6").fetch("KEY")
    expect(Student & keys, [s for s in b["Student"] if s["student_id"] < 6])
    records = (Student & "student_id < 6").to_arrays()
    expect(Student & records, [s for s in b["Student"] if s["student_id"] < 6])
    expect(Student - records, [s for s in b["Student"] if s["student_id"] >= 6])
    expect(Student & records[0], [s for s in b["Student"] if s["student_id"] == records[0]["student_id"]])
    frame = (t["Enroll"] & {"term": "Fall"}).to_pandas()
    expect(
        t["Student"] & frame,
        [
            s
            for s in b["Student"]
            if any(e["student_id"] == s["student_id"] and e["term"] == "Fall" for e in b["Enroll"])
        ],
    )
    plain = frame.reset_index()[["student_id"]]
    expect(
        Student & plain,
        [
            s
            for s in b["Student"]
            if any(e["student_id"] == s["student_id"] and e["term"] == "Fall" for e in b["Enroll"])
        ],
    )


# --- projection and join -------------------------------------------------------------------


def test_projection_renames_computes_excludes(uni):
    t, b = uni
    Student = t["Student"]
    q = Student.proj("first_name", sid="student_id", full='CONCAT(first_name, " ", last_name)')
    assert q.primary_key == ["sid"]
    expect(
        q,
        [
            dict(sid=s["student_id"], first_name=s["first_name"], full=s["first_name"] + " " + s["last_name"])
            for s in b["Student"]
        ],
    )
    q = Student.proj(..., "-home_city", "-home_state")
    assert q.heading.names == ["student_id", "first_name", "last_name", "sex", "date_of_birth"]
    expect(q, b["Student"])
    q = t["Course"].proj(double="credits * 2", name_copy="(course_name)")
    assert q.heading.names == ["dept", "course", "double", "name_copy"]
    expect(q, [dict(c, double=c["credits"] * 2, name_copy=c["course_name"]) for c in b["Course"]])
    expect(Student.proj(), [{"student_id": s["student_id"]} for s in b["Student"]])


def test_joins_follow_lineage(uni):
    t, b = uni
    q = t["Student"] * t["StudentMajor"] * t["Department"]
    assert q.primary_key == ["student_id"]
    expect(q, natural_join(natural_join(b["Student"], b["StudentMajor"]), b["Department"]))
    q = t["Enroll"] * t["Grade"] * t["LetterGrade"] * t["Course"]
    expect(q, natural_join(natural_join(natural_join(b["Enroll"], b["Grade"]), b["LetterGrade"]), b["Course"]))
    # a cross join: no shared attributes
    q = t["Department"].proj() * t["Term"]
    assert set(q.primary_key) == {"dept", "term_year", "term"}
    expect(q, [dict(d, **x) for d in b["Department"] for x in b["Term"]], names=["dept", "term_year", "term"])


def test_join_primary_key_by_functional_dependency(uni):
    t, _ = uni
    # Student determines StudentMajor (its key is in Student): key of Student, Student's attributes first
    assert (t["Student"] * t["StudentMajor"]).primary_key == ["student_id"]
    # StudentMajor determines Department: key student_id
    assert (t["StudentMajor"] * t["Department"]).primary_key == ["student_id"]
    # Department does not determine StudentMajor, but StudentMajor determines Department
    q = t["Department"] * t["StudentMajor"]
    assert q.primary_key == ["student_id"]
    assert q.heading.names[0] == "student_id"
    # neither determines the other: union of keys
    q = t["Student"] * t["Course"]
    assert q.primary_key == ["student_id", "dept", "course"]


def test_left_join_extend(uni):
    t, b = uni
    q = t["Student"].extend(t["StudentMajor"])
    majors = {m["student_id"]: m for m in b["StudentMajor"]}
    expect(
        q,
        [
            dict(
                s,
                dept=majors.get(s["student_id"], {}).get("dept"),
                declare_date=majors.get(s["student_id"], {}).get("declare_date"),
            )
            for s in b["Student"]
        ],
    )
    assert q.heading["dept"].nullable
    with pytest.raises(DataJointError, match="left operand to determine"):
        t["Department"].join(t["StudentMajor"], left=True)


def test_self_reference_through_renamed_foreign_key(uni):
    t, b = uni
    Employee, ReportsTo = t["Employee"], t["ReportsTo"]
    managers = Employee.proj(manager_id="employee_id", manager_name="name", manager_salary="salary")
    q = ReportsTo * Employee * managers
    by_id = {e["employee_id"]: e for e in b["Employee"]}
    oracle = [
        dict(
            by_id[r["employee_id"]],
            manager_id=r["manager_id"],
            manager_name=by_id[r["manager_id"]]["name"],
            manager_salary=by_id[r["manager_id"]]["salary"],
        )
        for r in b["ReportsTo"]
    ]
    expect(q, oracle)
    expect(q & "salary > manager_salary", [r for r in oracle if r["salary"] > r["manager_salary"]])
    # managers: employees that someone reports to
    expect(
        Employee & ReportsTo.proj(report="employee_id", employee_id="manager_id"),
        [e for e in b["Employee"] if any(r["manager_id"] == e["employee_id"] for r in b["ReportsTo"])],
    )
    # employees who manage nobody
    expect(
        Employee - ReportsTo.proj(report="employee_id", employee_id="manager_id"),
        [e for e in b["Employee"] if not any(r["manager_id"] == e["employee_id"] for r in b["ReportsTo"])],
    )
    # the renamed attribute keeps its lineage: manager_id matches a renamed employee_id
    assert ReportsTo.heading["manager_id"].lineage == Employee.heading["employee_id"].lineage
    # team sizes, including managers of nobody (0)
    q = Employee.aggr(ReportsTo.proj(report="employee_id", employee_id="manager_id"), n="COUNT(*)")
    expect(
        q,
        [dict(e, n=sum(r["manager_id"] == e["employee_id"] for r in b["ReportsTo"])) for e in b["Employee"]],
        names=["employee_id", "n"],
    )


def test_semantic_mismatch_in_university(uni):
    t, _ = uni
    # `name` of an employee and a department's name renamed to `name` mean different things
    with pytest.raises(DataJointError, match="different lineages"):
        t["Department"].proj(name="dept_name") * t["Employee"]
    with pytest.raises(DataJointError, match="different lineages"):
        t["Employee"] & t["Department"].proj(name="dept_name")
    with pytest.raises(DataJointError, match="different lineages") as info:
        t["Student"] * t["Employee"].proj(student_id="employee_id")
    message = str(info.value)
    assert "student_id" in message and ".proj(" in message
    assert "student" in message and "employee" in message
    q = t["Student"].join(t["Employee"].proj(student_id="employee_id"), semantic_check=False)
    assert len(q) == min(len(t["Student"]), 20)


# --- aggregation -----------------------------------------------------------------------------


def test_aggregation_counts_and_keeps_every_row(uni):
    t, b = uni
    q = t["Student"].aggr(t["Enroll"], n="COUNT(*)")
    assert q.primary_key == ["student_id"]
    counts = defaultdict(int)
    for e in b["Enroll"]:
        counts[e["student_id"]] += 1
    expect(q, [dict(student_id=s["student_id"], n=counts.get(s["student_id"], 0)) for s in b["Student"]])
    assert any(s["student_id"] not in counts for s in b["Student"])  # the data does test the zero case
    q = t["Student"].aggr(t["Enroll"], n="COUNT(*)", exclude_nonmatching=True)
    expect(q, [dict(student_id=s, n=n) for s, n in counts.items()])
    q = t["Student"].aggr(t["Enroll"], n="COUNT(*)", keep_all_rows=False)
    expect(q, [dict(student_id=s, n=n) for s, n in counts.items()])


def test_aggregation_functions(uni):
    t, b = uni
    graded = natural_join(b["Grade"], b["LetterGrade"])
    q = t["Student"].aggr(
        t["Grade"] * t["LetterGrade"],
        ...,
        gpa="AVG(points)",
        best="MAX(points)",
        worst="MIN(points)",
        total="SUM(points)",
        spread="STD(points)",
        spread2="STDDEV(points)",
        n="COUNT(grade)",
    )
    assert q.heading.names[:2] == ["student_id", "first_name"]
    per = defaultdict(list)
    for g in graded:
        per[g["student_id"]].append(float(g["points"]))
    oracle = []
    for s in b["Student"]:
        p = per.get(s["student_id"], [])
        oracle.append(
            dict(
                s,
                gpa=statistics.fmean(p) if p else None,
                best=max(p) if p else None,
                worst=min(p) if p else None,
                total=sum(p) if p else None,
                spread=statistics.pstdev(p) if p else None,
                spread2=statistics.pstdev(p) if p else None,
                n=len(p),
            )
        )
    expect(q, oracle)


def test_group_concat(uni):
    t, b = uni
    q = t["Department"].aggr(t["Course"], names="GROUP_CONCAT(course ORDER BY course SEPARATOR ',')")
    per = defaultdict(list)
    for c in b["Course"]:
        per[c["dept"]].append(c["course"])
    expect(
        q,
        [
            dict(dept=d["dept"], names=",".join(str(c) for c in sorted(per[d["dept"]])) if per[d["dept"]] else None)
            for d in b["Department"]
        ],
    )
    q = t["Department"].aggr(t["Course"], names="GROUP_CONCAT(course)")
    got = {r["dept"]: r["names"] for r in q.to_dicts()}
    assert {d: sorted(int(x) for x in v.split(",")) for d, v in got.items() if v} == {
        d: sorted(v) for d, v in per.items()
    }


def test_aggregation_of_join_restricted_and_joined_again(uni):
    t, b = uni
    credits = {(c["dept"], c["course"]): c["credits"] for c in b["Course"]}
    load = defaultdict(Decimal)
    for e in b["Enroll"]:
        load[e["student_id"]] += credits[(e["dept"], e["course"])]
    q = t["Student"].aggr(t["Enroll"] * t["Course"], load="SUM(credits)") & "load > 8"
    expect(q, [dict(student_id=s, load=v) for s, v in load.items() if v > 8])
    joined = q * t["StudentMajor"]
    expect(joined, [dict(m, load=load[m["student_id"]]) for m in b["StudentMajor"] if load.get(m["student_id"], 0) > 8])
    # restriction by an aggregation
    expect(t["Student"] & q, [s for s in b["Student"] if load.get(s["student_id"], 0) > 8])
    # aggregation over a projection with a computed attribute
    ages = t["Student"].proj(by="YEAR(date_of_birth)")
    per_year = defaultdict(int)
    for s in b["Student"]:
        per_year[s["date_of_birth"].year if s["date_of_birth"] else None] += 1
    expect(dj.U("by").aggr(ages, n="COUNT(*)"), [dict(by=y, n=n) for y, n in per_year.items()])


def test_universal_sets(uni):
    t, b = uni
    expect(dj.U("home_state") & t["Student"], [{"home_state": s} for s in {x["home_state"] for x in b["Student"]}])
    q = dj.U("home_city", "home_state") & (t["Student"] & "sex = 'F'")
    assert q.primary_key == ["home_city", "home_state"]
    expect(
        q,
        [
            dict(home_city=c, home_state=s)
            for c, s in {(x["home_city"], x["home_state"]) for x in b["Student"] if x["sex"] == "F"}
        ],
    )
    expect(dj.U().aggr(t["Student"], n="COUNT(*)"), [{"n": len(b["Student"])}])
    per_state = defaultdict(int)
    for s in b["Student"]:
        per_state[s["home_state"]] += 1
    expect(dj.U("home_state").aggr(t["Student"], n="COUNT(*)"), [dict(home_state=k, n=v) for k, v in per_state.items()])
    births = defaultdict(int)
    for s in b["Student"]:
        if s["date_of_birth"]:
            births[s["date_of_birth"].year] += 1
    q = dj.U("year").aggr(t["Student"].proj(year="YEAR(date_of_birth)") & "year IS NOT NULL", n="COUNT(*)")
    expect(q, [dict(year=y, n=n) for y, n in births.items()])
    # U used to restrict back
    expect(
        t["Student"] & (dj.U("home_state").aggr(t["Student"], n="COUNT(*)") & "n > 12"),
        [s for s in b["Student"] if per_state[s["home_state"]] > 12],
    )


# --- union and top ---------------------------------------------------------------------------


def test_union(uni):
    t, b = uni
    q = (t["Student"] & "student_id < 10").proj() + (t["Student"] & "student_id > 50").proj()
    expect(q, [{"student_id": s["student_id"]} for s in b["Student"] if s["student_id"] < 10 or s["student_id"] > 50])
    # outer union of disjoint secondary attributes
    left = (t["Student"] & "student_id < 20").proj("first_name")
    right = (t["Student"] & "student_id > 10 AND student_id < 30").proj("home_city")
    q = left + right
    by_id = {s["student_id"]: s for s in b["Student"]}
    oracle = []
    for sid in sorted(set(range(1, 20)) | set(range(11, 30))):
        oracle.append(
            dict(
                student_id=sid,
                first_name=by_id[sid]["first_name"] if sid < 20 else None,
                home_city=by_id[sid]["home_city"] if sid > 10 else None,
            )
        )
    expect(q, oracle)
    expect(q & "student_id > 15", [r for r in oracle if r["student_id"] > 15])
    expect(q - t["StudentMajor"], [r for r in oracle if not matches(r, b["StudentMajor"], ["student_id"])])
    assert len(q * t["StudentMajor"]) == sum(matches(r, b["StudentMajor"], ["student_id"]) for r in oracle)
    # operands ordered and limited by dj.Top
    q = (t["Student"] & dj.Top(3, "student_id")).proj() + (t["Student"] & dj.Top(2, "student_id DESC")).proj()
    expect(q, [{"student_id": i} for i in (1, 2, 3, 59, 60)])


def test_top(uni):
    t, b = uni
    Student = t["Student"]
    ordered = sorted(b["Student"], key=lambda s: (s["last_name"], s["student_id"]))
    q = Student & dj.Top(5, ["last_name", "student_id"])
    assert [r["student_id"] for r in q.to_dicts()] == [s["student_id"] for s in ordered[:5]]
    q = Student & dj.Top(4, ["last_name", "student_id"], offset=3)
    assert [r["student_id"] for r in q.to_dicts()] == [s["student_id"] for s in ordered[3:7]]
    q = Student & dj.Top(3, "student_id DESC")
    assert [r["student_id"] for r in q.to_dicts()] == [60, 59, 58]
    # Top then restriction: the top applies first
    q = (Student & dj.Top(10, "KEY")) & "sex = 'F'"
    expect(q, [s for s in b["Student"] if s["student_id"] <= 10 and s["sex"] == "F"])
    # Top in a semijoin: enrollments of the 3 oldest students (NULL birth dates excluded)
    oldest = Student & "date_of_birth IS NOT NULL" & dj.Top(3, ["date_of_birth", "student_id"])
    ids = [
        s["student_id"]
        for s in sorted(
            (s for s in b["Student"] if s["date_of_birth"]), key=lambda s: (s["date_of_birth"], s["student_id"])
        )[:3]
    ]
    expect(t["Enroll"] & oldest, [e for e in b["Enroll"] if e["student_id"] in ids])
    # top by an aggregate
    counts = t["Student"].aggr(t["Enroll"], n="COUNT(*)")
    top = counts & dj.Top(5, ["n DESC", "student_id"])
    per = defaultdict(int)
    for e in b["Enroll"]:
        per[e["student_id"]] += 1
    best = sorted(b["Student"], key=lambda s: (-per[s["student_id"]], s["student_id"]))[:5]
    assert [r["student_id"] for r in top.to_dicts()] == [s["student_id"] for s in best]
    # offset without limit, and fetch ordering
    assert len(Student & dj.Top(None, "KEY", offset=55)) == 5
    assert [r["student_id"] for r in Student.to_dicts(order_by="student_id DESC", limit=2)] == [60, 59]


def test_null_ordering_is_the_same_everywhere(uni):
    t, b = uni
    asc = [r["student_id"] for r in t["Student"].to_dicts(order_by=["date_of_birth", "student_id"])]
    desc = [r["student_id"] for r in t["Student"].to_dicts(order_by=["date_of_birth DESC", "student_id"])]
    nulls = sorted(s["student_id"] for s in b["Student"] if s["date_of_birth"] is None)
    # NULLs sort first ascending and last descending, as MySQL does
    assert asc[: len(nulls)] == nulls
    assert desc[-len(nulls) :] == nulls


# --- closure: results are full citizens --------------------------------------------------------


def test_closure_deep_composition(uni):
    t, b = uni
    # restriction of an aggregation of a join of a projection
    sections = t["Section"].proj("auditorium", year="term_year")
    q = t["Course"].aggr(sections * t["Enroll"].proj(..., year="term_year"), n="COUNT(*)") & "n >= 3"
    sec_by = {(s["dept"], s["course"], s["term_year"], s["term"], s["section"]) for s in b["Section"]}
    per = defaultdict(int)
    for e in b["Enroll"]:
        if (e["dept"], e["course"], e["term_year"], e["term"], e["section"]) in sec_by:
            per[(e["dept"], e["course"])] += 1
    expect(
        q,
        [
            dict(dept=c["dept"], course=c["course"], n=per[(c["dept"], c["course"])])
            for c in b["Course"]
            if per[(c["dept"], c["course"])] >= 3
        ],
    )
    # a union restricted by an antijoin, then joined and aggregated
    u = (t["Student"] & "home_state = 'MA'").proj() + (t["Student"] & "sex = 'F'").proj()
    v = u - t["StudentMajor"]
    ids = {s["student_id"] for s in b["Student"] if s["home_state"] == "MA" or s["sex"] == "F"}
    ids -= {m["student_id"] for m in b["StudentMajor"]}
    expect(v, [{"student_id": i} for i in ids])
    expect(dj.U().aggr(v * t["Enroll"], n="COUNT(*)"), [{"n": sum(e["student_id"] in ids for e in b["Enroll"])}])


def test_results_can_be_inserted_back(uni, backend_connection):
    t, b = uni
    connection, _ = backend_connection
    schema = dj.Schema(unique_name("uni_copy"), connection=connection)
    try:

        @schema
        class Load(dj.Manual):
            definition = """
            student_id : int unsigned
            ---
            n : int64
            gpa = null : float64
            """

        q = t["Student"].aggr(t["Grade"] * t["LetterGrade"], n="COUNT(*)", gpa="AVG(points)")
        Load.insert(q)
        assert rows_of(Load()) == rows_of(q)
        assert Load.heading.names == q.heading.names
    finally:
        drop_schema(connection, schema.database)


def test_headings_of_results(uni):
    t, _ = uni
    q = t["Student"].proj(born="date_of_birth", yr="YEAR(date_of_birth)", name='CONCAT(first_name, " ", last_name)')
    assert q.heading["born"].attr_type.core == "date"
    assert q.heading["born"].lineage == t["Student"].heading["date_of_birth"].lineage
    assert q.heading["yr"].lineage is None and q.heading["yr"].attr_type.is_integer
    assert q.heading["name"].attr_type.core in ("text", "varchar")
    row = (q & {"student_id": 1}).fetch1()
    assert isinstance(row["yr"], int) and isinstance(row["name"], str) and isinstance(row["born"], datetime.date)
    agg = t["Student"].aggr(t["Enroll"], n="COUNT(*)")
    assert agg.heading["n"].attr_type.is_integer
    assert agg.heading["student_id"].lineage == t["Student"].heading["student_id"].lineage


def test_sql_is_visible(uni):
    t, _ = uni
    q = t["Student"] & {"student_id": 3}
    text = q.make_sql()  # (str(q) is the preview, as DataJoint prints it)
    assert text.upper().startswith("SELECT") and "student" in text
    q = t["Student"] * t["StudentMajor"] & "home_state = 'MA'"
    assert q.make_sql().upper().count("SELECT") == 1  # flat: one SELECT, no subquery
