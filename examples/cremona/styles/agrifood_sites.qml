<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.28.0" styleCategories="Symbology">
  <renderer-v2 type="categorizedSymbol" attr="kind" symbollevels="0" enableorderby="0" forceraster="0">
    <categories>
      <category symbol="0" value="caseificio" label="caseificio" render="true"/>
      <category symbol="1" value="biogas" label="biogas" render="true"/>
      <category symbol="2" value="" label="other" render="true"/>
    </categories>
    <symbols>
      <symbol type="marker" name="0" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="245,203,167,255"/>
            <Option name="name" type="QString" value="circle"/>
            <Option name="size" type="QString" value="3.0"/>
            <Option name="outline_color" type="QString" value="255,255,255,255"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="1" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="88,214,141,255"/>
            <Option name="name" type="QString" value="circle"/>
            <Option name="size" type="QString" value="3.0"/>
            <Option name="outline_color" type="QString" value="255,255,255,255"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="2" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="127,140,141,255"/>
            <Option name="name" type="QString" value="circle"/>
            <Option name="size" type="QString" value="3.0"/>
            <Option name="outline_color" type="QString" value="255,255,255,255"/>
          </Option>
        </layer>
      </symbol>
    </symbols>
  </renderer-v2>
</qgis>
