// Proves read_table_info against a real server: the COPY column list leaves out dropped and
// generated columns, typmods and array element types are read as FORMATS.md §2.0 describes,
// names from users are quoted safely, the generated COPY statement loads, and a missing table or
// a view is refused with a message naming it — with the connection left usable.

#include "engine/catalog.hpp"

#include <catch2/catch.hpp>

#include "codecs/copy_binary.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;

TEST_CASE("catalog: columns, typmods and array element types of a table", "[engine][pg]") {
    auto conn = test::connect();
    conn.exec(R"sql(
        DROP TABLE IF EXISTS cat_spans;
        CREATE TABLE cat_spans (
            id bigserial PRIMARY KEY,
            gone int4,
            name varchar(5) NOT NULL,
            cost numeric(10, 2),
            at timestamptz(3),
            tags text[],
            doubled int8 GENERATED ALWAYS AS (id * 2) STORED,
            doc jsonb);
        ALTER TABLE cat_spans DROP COLUMN gone;)sql");
    VectorTypeOids vectors{.vector = 1, .halfvec = 1, .sparsevec = 1};
    TableInfo info = read_table_info(conn, "cat_spans", &vectors);
    CHECK(info.qualified_name == "public.cat_spans");
    REQUIRE(info.columns.size() == 6);
    std::vector<std::string> names;
    for (const auto& column : info.columns) {
        names.push_back(column.name);
    }
    CHECK(names == std::vector<std::string>{"id", "name", "cost", "at", "tags", "doc"});
    const ColumnInfo* name = info.find("name");
    REQUIRE(name != nullptr);
    CHECK(name->type_oid == 1043);
    CHECK(name->typmod == 9);  // varchar(n) → n + 4
    CHECK(name->type_display == "character varying(5)");
    CHECK(name->not_null);
    CHECK(info.find("cost")->typmod == ((10 << 16) | 2) + 4);
    CHECK(info.find("at")->typmod == 3);
    CHECK(info.find("id")->has_default);
    const ColumnInfo* tags = info.find("tags");
    CHECK(tags->type_name == "_text");
    CHECK(tags->element_oid == 25);
    CHECK(tags->element_name == "text");
    CHECK(info.find("doc")->element_oid == 0);
    CHECK(info.find("doubled") == nullptr);
    // No pgvector in the test cluster: every OID is reported as absent.
    CHECK(vectors.vector == 0);
    CHECK(vectors.halfvec == 0);
    CHECK(vectors.sparsevec == 0);
}

TEST_CASE("catalog: user names are quoted and the COPY statement loads", "[engine][pg]") {
    auto conn = test::connect();
    conn.exec(R"sql(
        DROP SCHEMA IF EXISTS "Odd Schema" CASCADE;
        CREATE SCHEMA "Odd Schema";
        CREATE TABLE "Odd Schema"."Events; DROP TABLE x"
            ("Mixed ""Quote"" Col" int4, b text);)sql");
    TableInfo info = read_table_info(conn, R"("Odd Schema"."Events; DROP TABLE x")");
    CHECK(info.qualified_name == R"("Odd Schema"."Events; DROP TABLE x")");
    CHECK(info.copy_sql() ==
          R"(COPY "Odd Schema"."Events; DROP TABLE x" ("Mixed ""Quote"" Col", "b"))"
          " FROM STDIN (FORMAT binary)");
    ByteBuffer stream;
    put_copy_header(stream);
    put_tuple_header(stream, 2);
    stream.put_i32(4);
    stream.put_i32(7);
    put_null(stream);
    CHECK(conn.copy_in(info.copy_sql(), stream.view()) == 1);
    CHECK(conn.query_value(
              R"(SELECT "Mixed ""Quote"" Col" FROM "Odd Schema"."Events; DROP TABLE x")") == "7");
}

TEST_CASE("catalog: a missing table is an error naming it; the connection stays usable",
          "[engine][pg]") {
    auto conn = test::connect();
    try {
        (void)read_table_info(conn, "no_such_table");
        FAIL("read_table_info accepted a missing table");
    } catch (const Error& error) {
        CHECK_THAT(error.what(), Catch::StartsWith("table no_such_table does not exist"));
    }
    CHECK(conn.query_value("SELECT 3") == "3");
}

TEST_CASE("catalog: a view, a bad name and a table without columns are refused", "[engine][pg]") {
    auto conn = test::connect();
    conn.exec(
        "CREATE OR REPLACE VIEW cat_view AS SELECT 1 AS a; "
        "DROP TABLE IF EXISTS cat_empty; CREATE TABLE cat_empty ()");
    CHECK_THROWS_WITH(read_table_info(conn, "cat_view"),
                      Catch::Contains("public.cat_view is not a table (relkind 'v')"));
    CHECK_THROWS_WITH(read_table_info(conn, "cat_empty"),
                      Catch::Contains("public.cat_empty has no column COPY can write"));
    // An unparsable name makes to_regclass raise: the server's message, and no stuck pipeline.
    CHECK_THROWS_WITH(read_table_info(conn, "a.b.c.d"), Catch::Contains("improper relation name"));
    CHECK(conn.query_value("SELECT 4") == "4");
}
