<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
<context>
    <name>CheckpointTreeModel</name>
    <message numerus="yes">
        <source>{size} + %n unknown</source>
        <translation>
            <numerusform>{size} + %n unknown</numerusform>
            <numerusform>{size} + %n unknown</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>UsageModel</name>
    <message numerus="yes">
        <source>{name} + %n sharing the file</source>
        <translation>
            <numerusform>{name} + %n other sharing the file</numerusform>
            <numerusform>{name} + %n others sharing the file</numerusform>
        </translation>
    </message>
</context>
</TS>
